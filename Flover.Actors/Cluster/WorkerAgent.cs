using Akka;
using Akka.Actor;
using Flover.Actors.Inference;

namespace Flover.Actors.Cluster;

/// <summary>
/// A worker node's face to the cluster, at <c>/user/flover-worker</c> (<see cref="Name"/>): it
/// wraps the node's local engine (an <see cref="InferenceEngine"/>), passes it every request a
/// frontend sends (<see cref="Generate"/>, <see cref="DescribeEngine"/>, <see cref="Tokenize"/>,
/// <see cref="Detokenize"/>, <see cref="StartDraining"/>) with the frontend as sender (a
/// <see cref="Generate"/> through a <see cref="WorkerRequestActor"/> of its own, which relays the
/// request's tokens to the frontend and writes the worker's log lines about it, each with the
/// request's id), and tells the frontends registered
/// with it (<see cref="RegisterFrontend"/>) what it runs and its load (<see cref="WorkerState"/>).
/// It samples the engine every <c>flover.cluster.status-interval</c> with a local
/// <see cref="ProbeEngine"/> and sends a state only when it changed, so the network carries a few
/// bytes per change and nothing while idle. When the engine stops, the agent stops: frontends
/// watching it fail its requests over. When the node leaves (Akka's CoordinatedShutdown, in its
/// <c>service-requests-done</c> phase, before the cluster-leave phase), the agent drains: it tells
/// the frontends it no longer serves, lets the engine finish what it holds and only then lets the
/// node leave, so a graceful leave moves no request.
/// </summary>
public sealed class WorkerAgent : ReceiveActor, IWithTimers
{
    /// <summary>The agent's name under <c>/user</c>: frontends find it at <c>/user/flover-worker</c> on every worker node.</summary>
    public const string Name = "flover-worker";

    private readonly IActorRef _engine;
    private readonly WorkerFingerprint _fingerprint;
    private readonly TimeSpan _statusInterval;
    private readonly HashSet<IActorRef> _frontends = [];
    private readonly List<IActorRef> _drainWaiters = [];
    private WorkerState? _state;
    private bool _draining;

    /// <summary>Creates the agent (use <see cref="Props"/>).</summary>
    public WorkerAgent(IActorRef engine, WorkerFingerprint fingerprint, TimeSpan statusInterval)
    {
        _engine = engine;
        _fingerprint = fingerprint;
        _statusInterval = statusInterval;
        Receive<RegisterFrontend>(_ => Register(Sender));
        Receive<Terminated>(t => t.ActorRef.Equals(_engine), _ => Context.Stop(Self));
        Receive<Terminated>(t => _frontends.Remove(t.ActorRef));
        Receive<StatusTick>(_ => _engine.Tell(ProbeEngine.Instance, Self));
        Receive<EngineStatus>(OnStatus);
        // Each request through a child of its own, which logs it with its id (WorkerRequestActor).
        Receive<Generate>(generate => Context.ActorOf(WorkerRequestActor.Props(generate, Sender, _engine)));
        Receive<DescribeEngine>(describe => _engine.Forward(describe));
        Receive<Tokenize>(tokenize => _engine.Forward(tokenize));
        Receive<Detokenize>(detokenize => _engine.Forward(detokenize));
        Receive<ProbeEngine>(probe => _engine.Forward(probe));
        Receive<DrainWorker>(_ =>
        {
            _drainWaiters.Add(Sender);
            if (!_draining)
            {
                StopServing();
                _engine.Tell(StartDraining.Instance, Self);
            }

            // The answer comes with the next status that shows the engine empty.
            _engine.Tell(ProbeEngine.Instance, Self);
        });
        Receive<EngineDraining>(_ => { });
        Receive<StartDraining>(drain =>
        {
            // Frontends learn at once that nothing new may come here; the engine answers the sender.
            StopServing();
            _engine.Forward(drain);
        });
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props of an agent for <paramref name="engine"/>, which runs what <paramref name="fingerprint"/> says; create it as <see cref="Name"/> under <c>/user</c>.</summary>
    /// <param name="engine">The node's engine (an <see cref="InferenceEngine"/>).</param>
    /// <param name="fingerprint">What the engine runs (equal fingerprints give equal tokens).</param>
    /// <param name="statusInterval">How often to sample the engine's load (<c>flover.cluster.status-interval</c>).</param>
    public static Props Props(IActorRef engine, WorkerFingerprint fingerprint, TimeSpan statusInterval)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(fingerprint);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(statusInterval, TimeSpan.Zero);
        return Akka.Actor.Props.Create(() => new WorkerAgent(engine, fingerprint, statusInterval));
    }

    /// <inheritdoc />
    protected override void PreStart()
    {
        // Drain before the node leaves the cluster; the phase's timeout bounds the wait (the ask's own is longer).
        IActorRef self = Self;
        CoordinatedShutdown shutdown = CoordinatedShutdown.Get(Context.System);
        TimeSpan limit = shutdown.Timeout(CoordinatedShutdown.PhaseServiceRequestsDone) + TimeSpan.FromSeconds(1);
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "flover-worker-drain", () => self.Ask<Done>(DrainWorker.Instance, limit));
        Context.Watch(_engine);
        _engine.Tell(ProbeEngine.Instance, Self);
        Timers.StartPeriodicTimer("status", StatusTick.Instance, _statusInterval);
    }

    private void Register(IActorRef frontend)
    {
        // Registration is repeated until a state arrives: watching twice is harmless in Akka.
        if (_frontends.Add(frontend))
        {
            Context.Watch(frontend);
        }

        if (_state is not null)
        {
            frontend.Tell(_state, Self);
        }
    }

    private void StopServing()
    {
        _draining = true;
        if (_state is not null)
        {
            Publish(_state with { Serving = false });
        }
    }

    private void OnStatus(EngineStatus status)
    {
        if (_draining && status.Running + status.Waiting == 0)
        {
            foreach (IActorRef waiter in _drainWaiters)
            {
                waiter.Tell(Done.Instance);
            }

            _drainWaiters.Clear();
        }

        // The step's age changes with every sample; only what routing compares is sent.
        var state = new WorkerState(_fingerprint, status.Running, status.Waiting, status.KvSlotsUsed, status.KvSlotsFree, !_draining && status.Stalled is null);
        if (state != _state)
        {
            Publish(state);
        }
    }

    private void Publish(WorkerState state)
    {
        _state = state;
        foreach (IActorRef frontend in _frontends)
        {
            frontend.Tell(state, Self);
        }
    }
}
