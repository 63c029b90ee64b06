using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Cluster;
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

    private const string RefusalPrefix = "flover-refused-wire ";

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

    /// <summary>
    /// What an Up node's guard tells a joiner's guard just before it downs it: its own role and
    /// address. A plain string on purpose: the joiner's serializer setup is, by definition, not
    /// this node's, so only a type Akka itself serializes (<c>System.String</c>, Akka.Remote's
    /// primitive serializer) is sure to be read there.
    /// </summary>
    public static string Refusal(string role, Address refuser) => $"{RefusalPrefix}{role} {refuser}";

    /// <summary>Reads a <see cref="Refusal"/>; false for any other string.</summary>
    public static bool TryReadRefusal(string message, out string role, out string refuser)
    {
        ArgumentNullException.ThrowIfNull(message);
        string[] parts = message.StartsWith(RefusalPrefix, StringComparison.Ordinal) ? message[RefusalPrefix.Length..].Split(' ') : [];
        (role, refuser) = parts.Length == 2 ? (parts[0], parts[1]) : (string.Empty, string.Empty);
        return parts.Length == 2;
    }

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
