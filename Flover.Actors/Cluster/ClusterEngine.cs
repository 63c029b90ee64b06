using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Flover.Actors.Inference;
using Flover.Configuration;

namespace Flover.Actors.Cluster;

/// <summary>
/// The cluster-aware entry actor of a frontend node: it speaks exactly the protocol of an
/// <see cref="InferenceEngine"/> (<see cref="Generate"/> → <see cref="Token"/>s and one
/// <see cref="Completed"/> or <see cref="Rejected"/>, <see cref="Cancel"/>,
/// <see cref="ProbeEngine"/>, <see cref="DescribeEngine"/>, <see cref="Tokenize"/>,
/// <see cref="Detokenize"/>, <see cref="StartDraining"/>), so HTTP and Akka.NET clients use it as
/// they use a local engine, but runs every request on a worker node. It learns the workers from
/// cluster membership (members with the <c>worker</c> role), registers with each one's
/// <see cref="WorkerAgent"/> and keeps their loads; each request goes to the least-occupied serving
/// worker of the model (<see cref="WorkerRouter"/>). When a worker is lost (unreachable, removed,
/// or its agent stopped) its requests continue on a worker with the same fingerprint from the
/// tokens they already have (<see cref="Generate.ContinueFrom"/>): the client sees every token of
/// the undisturbed run exactly once. A request that finds no worker waits up to
/// <c>flover.cluster.worker-wait</c>, then ends with <see cref="Rejected"/>
/// (<see cref="RejectionCode.EngineUnavailable"/>) or, once it has tokens, <see cref="Completed"/>
/// with an error. Also answers <see cref="ListWorkers"/>.
/// </summary>
public sealed partial class ClusterEngine : ReceiveActor, IWithTimers
{
    private readonly string _model;
    private readonly ClusterRoutingSettings _settings;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly WorkerTable _table;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, Address> _addresses = [];
    private readonly Dictionary<string, IActorRef> _agents = [];
    private readonly List<(IActorRef Request, RouteNeed Need)> _waiting = [];
    private bool _draining;

    /// <summary>Creates the entry actor (use <see cref="Props"/>).</summary>
    public ClusterEngine(string model, ClusterRoutingSettings settings)
    {
        _model = model;
        _settings = settings;
        _table = new WorkerTable(settings.Routing);
        _cluster = Akka.Cluster.Cluster.Get(Context.System);
        Membership();
        Requests();
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props of the entry actor for requests to <paramref name="model"/> (the name workers' fingerprints carry), in a system whose <c>akka.actor.provider</c> is <c>cluster</c>.</summary>
    /// <param name="model">The model the requests ask for.</param>
    /// <param name="settings">Routing and failover settings (<c>flover.cluster</c>; <see cref="ClusterRoutingSettings.Default"/> for reference.conf's).</param>
    public static Props Props(string model, ClusterRoutingSettings settings)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentNullException.ThrowIfNull(settings);
        return Akka.Actor.Props.Create(() => new ClusterEngine(model, settings));
    }

    /// <inheritdoc />
    protected override void PreStart()
    {
        // Initial state as events: workers already Up arrive as MemberUp like later ones.
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer("register", StatusTick.Instance, _settings.StatusInterval);
    }

    /// <inheritdoc />
    protected override void PostStop() => _cluster.Unsubscribe(Self);

    /// <summary>A request actor stopped or an agent went away; Terminated of anything else is ignored.</summary>
    private void OnTerminated(Terminated terminated)
    {
        _waiting.RemoveAll(w => w.Request.Equals(terminated.ActorRef));
        foreach ((string address, IActorRef agent) in _agents)
        {
            if (agent.Equals(terminated.ActorRef))
            {
                Lost(address);
                break;
            }
        }
    }
}
