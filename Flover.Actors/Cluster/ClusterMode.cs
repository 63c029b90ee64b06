using FloverConfig = Flover.Configuration.Config;

namespace Flover.Actors.Cluster;

/// <summary>
/// What a node runs, from its configuration: with <c>akka.actor.provider = cluster</c> it is a
/// cluster node whose <c>akka.cluster.roles</c> say whether it takes requests
/// (<see cref="ClusterRoles.Frontend"/>: a <see cref="ClusterEngine"/> is its engine), runs an
/// engine for the cluster (<see cref="ClusterRoles.Worker"/>: its engine behind a
/// <see cref="WorkerAgent"/>), or both (also when no role is given). Any other provider is the
/// single-process default: one engine, no cluster.
/// </summary>
/// <param name="Clustered">The cluster provider is configured.</param>
/// <param name="Frontend">Requests go through a <see cref="ClusterEngine"/> (only when clustered).</param>
/// <param name="Worker">The node runs an engine (always when not clustered).</param>
/// <param name="HasSeeds">akka.cluster.seed-nodes names at least one node; without, a cluster node joins itself.</param>
internal sealed record ClusterMode(bool Clustered, bool Frontend, bool Worker, bool HasSeeds)
{
    /// <summary>The node has the <see cref="ClusterRoles.Shard"/> role: it holds other nodes' tensor-parallel ranks (with no other role, nothing else).</summary>
    public bool Shard { get; init; }

    /// <summary>The single-process default.</summary>
    public static ClusterMode Single { get; } = new(false, false, true, false);

    /// <summary>
    /// <paramref name="config"/>, with both roles written out for a cluster node that names none:
    /// frontends find workers by the role in their membership, so "no role" must reach Akka as
    /// <c>[frontend, worker]</c>.
    /// </summary>
    public static FloverConfig WithDefaultRoles(FloverConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        ClusterMode mode = From(config);
        bool named = config.HasPath("akka.cluster.roles") && config.GetStringList("akka.cluster.roles").Count > 0;
        return !mode.Clustered || named
            ? config
            : Configuration.ConfigurationFactory.ParseString($"akka.cluster.roles = [{ClusterRoles.Frontend}, {ClusterRoles.Worker}]").WithFallback(config);
    }

    /// <summary>Reads the mode from the resolved configuration.</summary>
    /// <exception cref="Gpu.FloverException">A role other than frontend and worker.</exception>
    public static ClusterMode From(FloverConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!string.Equals(config.GetString("akka.actor.provider"), "cluster", StringComparison.OrdinalIgnoreCase))
        {
            return Single;
        }

        IList<string> roles = config.HasPath("akka.cluster.roles") ? config.GetStringList("akka.cluster.roles") : [];
        if (roles.FirstOrDefault(r => r is not (ClusterRoles.Frontend or ClusterRoles.Worker or ClusterRoles.Shard) && !r.StartsWith(ClusterCompatibility.RolePrefix, StringComparison.Ordinal)) is { } unknown)
        {
            throw new Gpu.FloverException($"akka.cluster.roles may hold {ClusterRoles.Frontend}, {ClusterRoles.Worker} and {ClusterRoles.Shard}, not '{unknown}'.");
        }

        // The wire-format role (ClusterCompatibility) is not a serving role: a node with only it still has both.
        bool both = !roles.Any(r => r is ClusterRoles.Frontend or ClusterRoles.Worker or ClusterRoles.Shard);
        bool seeds = config.HasPath("akka.cluster.seed-nodes") && config.GetStringList("akka.cluster.seed-nodes").Count > 0;
        return new ClusterMode(true, both || roles.Contains(ClusterRoles.Frontend), both || roles.Contains(ClusterRoles.Worker), seeds) { Shard = roles.Contains(ClusterRoles.Shard) };
    }
}
