using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Flover.Actors.Cluster;
using Flover.Actors.Serialization;
using Flover.Configuration;
using AkkaConfigurationFactory = Akka.Configuration.ConfigurationFactory;

namespace Flover.Actors.Tests.Cluster;

/// <summary>The join-time compatibility check: the wire-format role, and two nodes on loopback that differ in it or not.</summary>
public sealed class ClusterCompatibilityTests
{
    private static readonly Config Reference = FloverConfiguration.Load(new ConfigurationSources
    {
        Environment = _ => null,
        WorkingDirectory = AppContext.BaseDirectory,
    });

    [Fact]
    public void The_wire_role_names_the_version_and_changes_with_the_serializer_setup()
    {
        string role = ClusterCompatibility.Role(Reference);
        Config rebound = ConfigurationFactory.ParseString("akka.actor.serialization-bindings { \"System.Guid, System.Private.CoreLib\" = flover }").WithFallback(Reference);

        Assert.StartsWith($"{ClusterCompatibility.RolePrefix}{ProtocolSerializer.Version}-", role, StringComparison.Ordinal);
        Assert.Equal(role, ClusterCompatibility.Role(ConfigurationFactory.ParseString("flover.http.port = 1234").WithFallback(Reference)));
        Assert.NotEqual(role, ClusterCompatibility.Role(rebound));
        Assert.NotEqual(role, ClusterCompatibility.Role(Reference, ProtocolSerializer.Version + 1));
    }

    [Fact]
    public void A_cluster_node_hands_akka_its_serving_roles_and_the_wire_role_and_keeps_what_it_runs()
    {
        Config none = ClusterCompatibility.WithWireRole(ConfigurationFactory.ParseString("akka.actor.provider = cluster").WithFallback(Reference));
        Config worker = ClusterCompatibility.WithWireRole(ConfigurationFactory.ParseString("akka.actor.provider = cluster\nakka.cluster.roles = [worker]").WithFallback(Reference));

        Assert.Equal([ClusterRoles.Frontend, ClusterRoles.Worker, ClusterCompatibility.Role(Reference)], none.GetStringList("akka.cluster.roles"));
        Assert.Equal([ClusterRoles.Worker, ClusterCompatibility.Role(Reference)], worker.GetStringList("akka.cluster.roles"));
        Assert.Equal(new ClusterMode(true, false, true, false), ClusterMode.From(worker));
        Assert.Same(Reference, ClusterCompatibility.WithWireRole(Reference));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_node_with_another_wire_format_is_refused_before_it_is_Up_and_both_sides_log_it()
    {
        string ours = ClusterCompatibility.Role(Reference);
        string theirs = ClusterCompatibility.Role(Reference, ProtocolSerializer.Version + 1);
        using var seed = Node(ours);
        using var joiner = Node(theirs);
        var seedEvents = new ConcurrentQueue<ClusterEvent.IMemberEvent>();
        var downed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Address joinerAddress = Akka.Cluster.Cluster.Get(joiner.System).SelfAddress;
        seed.System.ActorOf(Props.Create(() => new MemberRecorder(seedEvents, joinerAddress, downed)));
        await seed.FormCluster();

        Akka.Cluster.Cluster.Get(joiner.System).Join(Akka.Cluster.Cluster.Get(seed.System).SelfAddress);

        // Bounded: the joiner stops itself and the seed downs it within a second; 30 s is generous on 2 shared cores.
        // Down is final in Akka's membership: a member seen Down before Up never becomes Up.
        await joiner.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
        await downed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // The joiner stops either through its own guard (it saw an Up member with another wire role,
        // or the seed's refusal) or because the seed's Down reached its cluster daemon first: two
        // orders of the same gossip, both a refusal. Both sides log their line on either path.
        CoordinatedShutdown.Reason? reason = CoordinatedShutdown.Get(joiner.System).ShutdownReason;
        Assert.Contains(reason, new CoordinatedShutdown.Reason[] { ClusterCompatibility.IncompatibleReason.Instance, CoordinatedShutdown.ClusterDowningReason.Instance });
        Assert.True(CompatibilityVerdict.Get(joiner.System).Refused);
        Assert.DoesNotContain(seedEvents, e => e is ClusterEvent.MemberUp);
        Assert.Contains(seedEvents, e => e is ClusterEvent.MemberJoined);
        string refusal = await seed.Error("Refusing node").WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Contains(joinerAddress.ToString(), refusal, StringComparison.Ordinal);
        Assert.Contains(theirs, refusal, StringComparison.Ordinal);
        Assert.Contains(ours, refusal, StringComparison.Ordinal);
        // The joiner's system has stopped: its line was logged before (the guard reports in the shutdown's first phase).
        string stop = Assert.Single(joiner.Errors, e => e.Contains("This node cannot join", StringComparison.Ordinal));
        Assert.Contains(ours, stop, StringComparison.Ordinal);
        Assert.Contains(theirs, stop, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_joiner_told_by_an_Up_node_that_it_is_refused_logs_both_roles_and_stops()
    {
        // The Down-first path's message alone: the refusal reaches a guard whose node is not Up
        // (here it never joined), as it does when the Down overtakes the joiner's membership events.
        string ours = ClusterCompatibility.Role(Reference);
        string theirs = ClusterCompatibility.Role(Reference, ProtocolSerializer.Version + 1);
        using var joiner = Node(theirs);
        var refuser = new Address("akka.tcp", "flover", "127.0.0.1", 4053);

        joiner.System.ActorSelection("/user/" + CompatibilityGuard.Name).Tell(ClusterCompatibility.Refusal(ours, refuser));

        await joiner.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ClusterCompatibility.IncompatibleReason.Instance, CoordinatedShutdown.Get(joiner.System).ShutdownReason);
        Assert.True(CompatibilityVerdict.Get(joiner.System).Refused);
        string stop = Assert.Single(joiner.Errors, e => e.Contains("cannot join", StringComparison.Ordinal));
        Assert.Contains($"This node cannot join: its Flover wire format ({theirs}) differs from the cluster's ({ours} on {refuser})", stop, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_joiner_downed_before_it_is_Up_without_a_reason_still_logs_one_line()
    {
        string theirs = ClusterCompatibility.Role(Reference, ProtocolSerializer.Version + 1);
        using var joiner = Node(theirs);
        // The guard adds its shutdown task when it starts: an answer to Identify comes after that.
        await joiner.System.ActorSelection("/user/" + CompatibilityGuard.Name).Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(30));

        await CoordinatedShutdown.Get(joiner.System).Run(CoordinatedShutdown.ClusterDowningReason.Instance).WaitAsync(TimeSpan.FromSeconds(30));

        string stop = Assert.Single(joiner.Errors, e => e.Contains("cannot join", StringComparison.Ordinal));
        Assert.StartsWith("This node cannot join: the cluster downed it before it was Up", stop, StringComparison.Ordinal);
        Assert.Contains(theirs, stop, StringComparison.Ordinal);
        Assert.False(CompatibilityVerdict.Get(joiner.System).Refused);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_node_with_the_same_wire_format_joins()
    {
        string ours = ClusterCompatibility.Role(Reference);
        using var seed = Node(ours);
        using var joiner = Node(ours);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Akka.Cluster.Cluster.Get(joiner.System).RegisterOnMemberUp(() => up.TrySetResult());
        await seed.FormCluster();

        Akka.Cluster.Cluster.Get(joiner.System).Join(Akka.Cluster.Cluster.Get(seed.System).SelfAddress);

        await up.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, Akka.Cluster.Cluster.Get(seed.System).State.Members.Count(m => m.Status == MemberStatus.Up));
        Assert.Empty(seed.Errors);
        Assert.Empty(joiner.Errors);
    }

    /// <summary>A node on loopback with <paramref name="role"/> as its wire role and its guard; the seed joins itself.</summary>
    private static GuardedNode Node(string role)
    {
        ActorSystem system = ActorSystem.Create("flover", AkkaConfigurationFactory.ParseString($"akka.cluster.roles = [worker, \"{role}\"]").WithFallback(ClusterHarness.Node(ClusterRoles.Worker)));
        var node = new GuardedNode(system);
        // Synchronous: the line is recorded as it is logged, so a system that stops right after loses none.
        LogTap.Attach(system, e =>
        {
            if (e is Error)
            {
                node.Logged(e.Message?.ToString() ?? string.Empty);
            }
        });
        system.ActorOf(CompatibilityGuard.Props(role), CompatibilityGuard.Name);
        return node;
    }

    private sealed class GuardedNode(ActorSystem system) : IDisposable
    {
        private readonly List<(string Needle, TaskCompletionSource<string> Found)> _waiting = [];

        public ActorSystem System { get; } = system;

        public ConcurrentQueue<string> Errors { get; } = new();

        /// <summary>Joins itself (the first node of a cluster) and waits until it is Up.</summary>
        public Task FormCluster()
        {
            var cluster = Akka.Cluster.Cluster.Get(System);
            var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            cluster.RegisterOnMemberUp(() => up.TrySetResult());
            cluster.Join(cluster.SelfAddress);
            return up.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }

        /// <summary>The first error logged that contains <paramref name="needle"/>.</summary>
        public Task<string> Error(string needle)
        {
            lock (_waiting)
            {
                if (Errors.FirstOrDefault(e => e.Contains(needle, StringComparison.Ordinal)) is { } seen)
                {
                    return Task.FromResult(seen);
                }

                var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting.Add((needle, found));
                return found.Task;
            }
        }

        public void Logged(string message)
        {
            lock (_waiting)
            {
                Errors.Enqueue(message);
                foreach ((string needle, TaskCompletionSource<string> found) in _waiting.Where(w => message.Contains(w.Needle, StringComparison.Ordinal)))
                {
                    found.TrySetResult(message);
                }
            }
        }

        public void Dispose() => System.Terminate().Wait(TimeSpan.FromSeconds(30));
    }

    private sealed class MemberRecorder : ReceiveActor
    {
        public MemberRecorder(ConcurrentQueue<ClusterEvent.IMemberEvent> events, Address watched, TaskCompletionSource downed)
        {
            Receive<ClusterEvent.IMemberEvent>(e =>
            {
                if (e.Member.Address.Equals(watched))
                {
                    events.Enqueue(e);
                    if (e is ClusterEvent.MemberDowned or ClusterEvent.MemberRemoved)
                    {
                        downed.TrySetResult();
                    }
                }
            });
        }

        protected override void PreStart() =>
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
    }
}
