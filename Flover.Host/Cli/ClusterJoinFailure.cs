using Akka.Actor;
using Flover.Actors.Cluster;
using Flover.Configuration;

namespace Flover.Host.Cli;

/// <summary>
/// The one error line of a node that gave up joining: Akka.Cluster retries its seed nodes (every
/// <c>akka.cluster.seed-node-timeout</c>) until <c>akka.cluster.shutdown-after-unsuccessful-join-seed-nodes</c>
/// passes, then runs the coordinated shutdown with <see cref="CoordinatedShutdown.ClusterJoinUnsuccessfulReason"/>.
/// Flover uses Akka's setting rather than a timer of its own: it does exactly this, and the
/// reason tells a give-up apart from a SIGTERM or a downing.
/// </summary>
internal static class ClusterJoinFailure
{
    /// <summary>The error line when <paramref name="system"/> stopped because joining failed (no seed answered, or the cluster runs another wire format), else null.</summary>
    public static string? Message(ActorSystem system, Config config, string command)
    {
        CoordinatedShutdown.Reason? reason = CoordinatedShutdown.Get(system).ShutdownReason;
        // The verdict too: when the Up node's Down reaches this node first, the shutdown's reason is
        // the cluster's downing, yet the guard logged the refusal and recorded it.
        if (reason is ClusterCompatibility.IncompatibleReason || CompatibilityVerdict.Get(system).Refused)
        {
            // The guard logged the roles that differ (stderr, through Akka's logger).
            return $"{command}: error: could not join the cluster: its Flover wire format or serializer setup differs from this node's (no rolling upgrade across a wire-format change; see the error logged above)";
        }

        if (reason is not CoordinatedShutdown.ClusterJoinUnsuccessfulReason)
        {
            return null;
        }

        IList<string> seeds = config.HasPath("akka.cluster.seed-nodes") ? config.GetStringList("akka.cluster.seed-nodes") : [];
        string after = config.GetString("akka.cluster.shutdown-after-unsuccessful-join-seed-nodes") ?? "?";
        return $"{command}: error: could not join the cluster: no seed node answered within {after} "
            + $"(akka.cluster.shutdown-after-unsuccessful-join-seed-nodes); seed nodes: {string.Join(", ", seeds)}";
    }
}
