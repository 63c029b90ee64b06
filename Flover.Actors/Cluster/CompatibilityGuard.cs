using Akka;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Flover.Actors.Cluster;

/// <summary>
/// Refuses incompatible nodes (<see cref="ClusterCompatibility"/>), on every cluster node. The
/// decision rests on who is already Up: a node that is Up downs a member that is still Joining
/// (or WeaklyUp) with another wire-format role, which removes it before the leader moves it to Up
/// (the leader needs the joiner's acknowledgement of the gossip for that, a network round trip
/// and a leader tick later, while the Down is a local message); a node that is still joining and
/// sees an Up member with another role stops itself (the coordinated shutdown with
/// <see cref="ClusterCompatibility.IncompatibleReason"/>), so it leaves even when the cluster
/// runs a Flover without this guard. Members that are both Up are never downed: two running
/// nodes must not down each other. Each side logs one error line naming both roles.
/// </summary>
/// <remarks>
/// The joiner cannot count on seeing the Up member's role in its membership events: when the
/// Down reaches it right after the Welcome, its cluster daemon shuts down at once and its event
/// publisher is stopped with the Welcome's state still unpublished (a stop overtakes the
/// messages queued before it). So the Up node's guard first tells the joiner's guard why
/// (<see cref="ClusterCompatibility.Refusal"/>), then downs it: both messages go out through the
/// one endpoint writer between the two systems, the refusal first, and the joiner's reader
/// delivers in that order, so the refusal is in the joiner guard's mailbox before the Down reaches
/// the joiner's cluster daemon (Akka promises order only per sender and receiver: this is its
/// remoting's order, not a contract; without it the guard logs its no-reason line). And a task in
/// the coordinated shutdown's first phase asks the guard to report, so the guard handles what it
/// holds before the system stops.
/// </remarks>
internal sealed class CompatibilityGuard : ReceiveActor
{
    /// <summary>The guard's name under <c>/user</c>.</summary>
    public const string Name = "flover-compatibility";

    private const string Rule = "Every node of a cluster must run the same Flover wire format and serializer setup (no rolling upgrade across a wire-format change).";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly string _role;
    private readonly HashSet<UniqueAddress> _refused = [];
    private bool _selfUp;
    private bool _leaving;

    /// <summary>Creates the guard (use <see cref="Props"/>).</summary>
    public CompatibilityGuard(string role)
    {
        _role = role;
        Receive<ClusterEvent.IMemberEvent>(e => OnMember(e.Member));
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<string>(refusal => ClusterCompatibility.TryReadRefusal(refusal, out _, out _), OnRefusal);
        Receive<ReportBeforeShutdown>(_ =>
        {
            ReportDowning();
            Sender.Tell(Done.Instance);
        });
    }

    /// <summary>Props of the guard of a node whose wire-format role is <paramref name="role"/>.</summary>
    public static Props Props(string role) => Akka.Actor.Props.Create(() => new CompatibilityGuard(role));

    /// <inheritdoc />
    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
        // In the first phase, whatever the reason: the guard's mailbox is handled (a refusal that
        // came with the Down is logged) before /user is stopped. The ask ends within the phase.
        IActorRef self = Self;
        CoordinatedShutdown shutdown = CoordinatedShutdown.Get(Context.System);
        TimeSpan limit = shutdown.Timeout(CoordinatedShutdown.PhaseBeforeServiceUnbind);
        shutdown.AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "flover-compatibility-report", () => self.Ask<Done>(ReportBeforeShutdown.Instance, limit));
    }

    /// <inheritdoc />
    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void OnMember(Member member)
    {
        if (member.UniqueAddress.Equals(_cluster.SelfUniqueAddress))
        {
            _selfUp |= member.Status == MemberStatus.Up;
            return;
        }

        string? theirs = ClusterCompatibility.RoleOf(member);
        if (string.Equals(theirs, _role, StringComparison.Ordinal))
        {
            return;
        }

        string describe = theirs ?? "no Flover wire-format role";
        if (_selfUp && member.Status is MemberStatus.Joining or MemberStatus.WeaklyUp && _refused.Add(member.UniqueAddress))
        {
            _log.Error("Refusing node {0}: its Flover wire format ({1}) differs from this node's ({2}); it is downed before it is Up. " + Rule, member.Address, describe, _role);
            // The reason first, then the Down: the same association carries both, in this order (see remarks).
            Context.ActorSelection(new RootActorPath(member.Address) / "user" / Name).Tell(ClusterCompatibility.Refusal(_role, _cluster.SelfAddress), Self);
            _cluster.Down(member.Address);
        }
        else if (!_selfUp && member.Status == MemberStatus.Up)
        {
            CannotJoin(describe, member.Address.ToString());
        }
    }

    private void OnRefusal(string refusal)
    {
        // Only a node that is not Up yet can be refused: Up members never down each other.
        if (!_selfUp && ClusterCompatibility.TryReadRefusal(refusal, out string theirs, out string refuser))
        {
            CannotJoin(theirs, refuser);
        }
    }

    private void CannotJoin(string theirs, string where)
    {
        if (_leaving)
        {
            return;
        }

        _leaving = true;
        CompatibilityVerdict.Get(Context.System).Refused = true;
        _log.Error("This node cannot join: its Flover wire format ({0}) differs from the cluster's ({1} on {2}); stopping. " + Rule, _role, theirs, where);
        // A no-op when the cluster's Down already started the shutdown (its reason then stays ClusterDowningReason).
        CoordinatedShutdown.Get(Context.System).Run(ClusterCompatibility.IncompatibleReason.Instance);
    }

    private void ReportDowning()
    {
        // Downed before Up with no refusal received: an Up node without this build's guard, or
        // the split brain resolver downing a joiner it could not reach. Still one clear line.
        if (!_selfUp && !_leaving && CoordinatedShutdown.Get(Context.System).ShutdownReason is CoordinatedShutdown.ClusterDowningReason)
        {
            _leaving = true;
            _log.Error("This node cannot join: the cluster downed it before it was Up, and no reason reached it (an Up node's log says why: a 'Refusing node' line names the wire formats that differ; or this node was unreachable while joining). This node's Flover wire format is {0}; stopping.", _role);
        }
    }

    /// <summary>The coordinated shutdown's first phase → the guard: log what it holds, then answer Done.</summary>
    private sealed record ReportBeforeShutdown : INoSerializationVerificationNeeded
    {
        public static ReportBeforeShutdown Instance { get; } = new();
    }
}

/// <summary>
/// Whether this node's <see cref="CompatibilityGuard"/> found it refused by the cluster (an Akka
/// extension, so the host reads it after the actor system stopped, whichever shutdown reason won
/// the race: <see cref="ClusterCompatibility.IncompatibleReason"/> or the cluster's downing).
/// </summary>
internal sealed class CompatibilityVerdict : IExtension
{
    private volatile bool _refused;

    /// <summary>Set once by the guard when it logged its "cannot join" line.</summary>
    public bool Refused
    {
        get => _refused;
        set => _refused = value;
    }

    /// <summary>The verdict of <paramref name="system"/>.</summary>
    public static CompatibilityVerdict Get(ActorSystem system) => system.WithExtension<CompatibilityVerdict, CompatibilityVerdictId>();

    private sealed class CompatibilityVerdictId : ExtensionIdProvider<CompatibilityVerdict>
    {
        public override CompatibilityVerdict CreateExtension(ExtendedActorSystem system) => new();
    }
}
