using Akka.Event;

namespace Flover.Actors.Cluster;

/// <summary>The cluster roles Flover gives meaning to (<c>akka.cluster.roles</c>).</summary>
public static class ClusterRoles
{
    /// <summary>A node that takes requests (HTTP or a <see cref="ClusterEngine"/>) and routes them to workers.</summary>
    public const string Frontend = "frontend";

    /// <summary>A node that runs an engine behind a <see cref="WorkerAgent"/> at <c>/user/flover-worker</c>.</summary>
    public const string Worker = "worker";

    /// <summary>
    /// A node that only holds tensor-parallel ranks of other nodes' groups, on its shard host at
    /// <c>/user/flover-shard-host</c> (<c>flover.parallel.nodes</c> on the worker names it): no engine
    /// of its own, so frontends never route to it.
    /// </summary>
    public const string Shard = "shard";
}

/// <summary>
/// A frontend (<see cref="ClusterEngine"/>) → a worker's <see cref="WorkerAgent"/>: send me your
/// <see cref="WorkerState"/> now and whenever it changes. Sent again while the worker is Up but has
/// not answered (its agent may not be started yet), so lost copies are harmless and not logged as
/// dead letters.
/// </summary>
public sealed record RegisterFrontend : IDeadLetterSuppression
{
    /// <summary>The single instance.</summary>
    public static RegisterFrontend Instance { get; } = new();
}

/// <summary>
/// A worker's agent → the frontends registered with it: what it runs and its load. Sent on
/// registration and whenever one of the fields changes (the agent samples its engine every
/// <c>flover.cluster.status-interval</c>), never periodically, so an idle cluster exchanges none.
/// </summary>
/// <param name="Fingerprint">What the worker runs.</param>
/// <param name="Running">Requests holding a KV slot.</param>
/// <param name="Waiting">Requests waiting for admission.</param>
/// <param name="KvSlotsUsed">KV slots in use.</param>
/// <param name="KvSlotsFree">KV slots free.</param>
/// <param name="Serving">False while the worker drains or its engine cannot step (no new requests go there).</param>
public sealed record WorkerState(WorkerFingerprint Fingerprint, int Running, int Waiting, int KvSlotsUsed, int KvSlotsFree, bool Serving);

/// <summary>Asks a <see cref="ClusterEngine"/> which workers it knows; answered with <see cref="WorkerList"/>.</summary>
public sealed record ListWorkers
{
    /// <summary>The single instance.</summary>
    public static ListWorkers Instance { get; } = new();
}

/// <summary>The workers a <see cref="ClusterEngine"/> routes to: reachable, registered, with their last load (its own routings since then counted as waiting).</summary>
/// <param name="Workers">One entry per worker, by address.</param>
public sealed record WorkerList(IReadOnlyList<WorkerLoad> Workers);
