using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Flover.Actors.Serialization;
using FloverConfig = Flover.Configuration.Config;

namespace Flover.Actors.Cluster;

/// <summary>
/// The join-time compatibility check. Akka.NET 1.5.75 has no join configuration check (the JVM's
/// <c>JoinConfigCompatChecker</c> was never ported: a Join carries only the address and the
/// roles), so Flover carries what must be equal in a role of its own, <see cref="Role(FloverConfig)"/>:
/// <c>flover-wire-V-DIGEST</c>, where V is <see cref="ProtocolSerializer.Version"/> and DIGEST
/// hashes the node's serializer setup (<c>akka.actor.serializers</c>,
/// <c>serialization-bindings</c>, <c>serialization-identifiers</c>). Every cluster node runs a
/// <see cref="CompatibilityGuard"/> that compares each member's role with its own.
/// </summary>
internal static class ClusterCompatibility
{
    /// <summary>The prefix of the wire-format role (the only role besides frontend and worker that a node may carry).</summary>
    public const string RolePrefix = "flover-wire-";

    /// <summary>The wire-format role of a node with <paramref name="config"/> (its serializer setup) at this build's wire format version.</summary>
    public static string Role(FloverConfig config) => Role(config, ProtocolSerializer.Version);

    /// <summary>The wire-format role for <paramref name="version"/> (a spec plays an older or newer node with it).</summary>
    public static string Role(FloverConfig config, byte version)
    {
        ArgumentNullException.ThrowIfNull(config);
        var lines = new List<string>();
        foreach (string section in (string[])["akka.actor.serializers", "akka.actor.serialization-bindings", "akka.actor.serialization-identifiers"])
        {
            lines.AddRange(config.GetConfig(section).AsEnumerable().Select(kv => $"{section}|{kv.Key}={kv.Value.ToJson()}"));
        }

        lines.Sort(StringComparer.Ordinal);
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines)));
        return string.Create(CultureInfo.InvariantCulture, $"{RolePrefix}{version}-{Convert.ToHexStringLower(hash.AsSpan(0, 4))}");
    }

    /// <summary>
    /// <paramref name="config"/> with the wire-format role added to <c>akka.cluster.roles</c> (on a
    /// cluster node; <see cref="ClusterMode.WithDefaultRoles"/> first, so "no role" still means both).
    /// </summary>
    public static FloverConfig WithWireRole(FloverConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!ClusterMode.From(config).Clustered)
        {
            return config;
        }

        config = ClusterMode.WithDefaultRoles(config);
        IEnumerable<string> roles = config.GetStringList("akka.cluster.roles").Where(r => !r.StartsWith(RolePrefix, StringComparison.Ordinal)).Append(Role(config));
        return Configuration.ConfigurationFactory.ParseString($"akka.cluster.roles = [{string.Join(", ", roles.Select(r => $"\"{r}\""))}]").WithFallback(config);
    }

    /// <summary>The wire-format role <paramref name="member"/> carries; null for a node that carries none (an older Flover, or not Flover).</summary>
    public static string? RoleOf(Member member) => member.Roles.FirstOrDefault(r => r.StartsWith(RolePrefix, StringComparison.Ordinal));

    /// <summary>The coordinated shutdown's reason when this node found itself incompatible with the cluster it was joining.</summary>
    public sealed class IncompatibleReason : CoordinatedShutdown.Reason
    {
        /// <summary>The one instance.</summary>
        public static readonly IncompatibleReason Instance = new();

        private IncompatibleReason()
        {
        }

        /// <summary>1: a failure (Akka uses it only when <c>exit-clr</c> is on; Flover's commands return their own code).</summary>
        public override int ExitCode => 1;
    }
}

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
internal sealed class CompatibilityGuard : ReceiveActor
{
    /// <summary>The guard's name under <c>/user</c>.</summary>
    public const string Name = "flover-compatibility";

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
    }

    /// <summary>Props of the guard of a node whose wire-format role is <paramref name="role"/>.</summary>
    public static Props Props(string role) => Akka.Actor.Props.Create(() => new CompatibilityGuard(role));

    /// <inheritdoc />
    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));

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
            _log.Error(
                "Refusing node {0}: its Flover wire format ({1}) differs from this node's ({2}); it is downed before it is Up. "
                + "Every node of a cluster must run the same Flover wire format and serializer setup (no rolling upgrade across a wire-format change).",
                member.Address, describe, _role);
            _cluster.Down(member.Address);
        }
        else if (!_selfUp && member.Status == MemberStatus.Up && !_leaving)
        {
            _leaving = true;
            _log.Error(
                "This node cannot join: its Flover wire format ({0}) differs from the cluster's ({1} on {2}); stopping. "
                + "Every node of a cluster must run the same Flover wire format and serializer setup (no rolling upgrade across a wire-format change).",
                _role, describe, member.Address);
            CoordinatedShutdown.Get(Context.System).Run(ClusterCompatibility.IncompatibleReason.Instance);
        }
    }
}
