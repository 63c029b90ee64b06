using Flover.Configuration;

namespace Flover.Actors.Cluster;

/// <summary>
/// What a request needs from a worker: a new request any serving worker of its model; a request
/// that already has tokens a worker whose fingerprint it can continue on. <paramref name="Excluded"/>
/// is the worker it just lost (or that refused it).
/// </summary>
/// <param name="Model">The requested model.</param>
/// <param name="Fingerprint">The fingerprint its tokens came from; null while it has none.</param>
/// <param name="Excluded">A worker not to use, or null.</param>
internal sealed record RouteNeed(string Model, WorkerFingerprint? Fingerprint, string? Excluded);

/// <summary>
/// A frontend's view of the workers, as a plain class the <see cref="ClusterEngine"/> owns:
/// membership (Up, unreachable, removed) from cluster events, each worker's last
/// <see cref="WorkerState"/>, and the requests this frontend routed to it since that state (counted
/// as waiting, so a burst of requests between two states spreads instead of piling onto the worker
/// that looked idlest). Routing itself is <see cref="WorkerRouter"/>'s.
/// </summary>
internal sealed class WorkerTable
{
    private readonly SortedDictionary<string, Entry> _workers = new(StringComparer.Ordinal);
    private readonly bool _roundRobin;
    private long _turn;

    /// <param name="routing">flover.cluster.routing: least-loaded, or round-robin for new requests.</param>
    public WorkerTable(string routing = ClusterRoutingSettings.LeastLoaded)
    {
        _roundRobin = routing == ClusterRoutingSettings.RoundRobin;
    }

    /// <summary>Workers that are Up and reachable but have not sent a state yet: the frontend (re)registers with them.</summary>
    public IEnumerable<string> Unregistered => _workers.Where(w => w.Value.Reachable && w.Value.State is null).Select(w => w.Key);

    /// <summary>Every reachable worker with a state, as routing sees it.</summary>
    public IReadOnlyList<WorkerLoad> Loads => [.. _workers.Where(w => w.Value.Reachable && w.Value.State is not null).Select(w => Load(w.Key, w.Value))];

    /// <summary>A member with the worker role is Up.</summary>
    public void Up(string address) => _workers.TryAdd(address, new Entry());

    /// <summary>
    /// The worker is gone (removed, or its agent stopped); true when it was known. Its requests
    /// fail over: the caller tells them.
    /// </summary>
    public bool Remove(string address) => _workers.Remove(address);

    /// <summary>The failure detector lost the worker: no routing to it until it is reachable again (its requests fail over at once).</summary>
    public bool Unreachable(string address)
    {
        if (!_workers.TryGetValue(address, out Entry? entry) || !entry.Reachable)
        {
            return false;
        }

        entry.Reachable = false;
        return true;
    }

    /// <summary>The worker is reachable again: it takes requests once it has re-sent its state (registration starts again).</summary>
    public void Reachable(string address)
    {
        if (_workers.TryGetValue(address, out Entry? entry) && !entry.Reachable)
        {
            // Its load while unreachable is unknown: ask again rather than route on a stale one.
            entry.Reachable = true;
            entry.State = null;
            entry.Assigned = 0;
        }
    }

    /// <summary>A state from the worker's agent; true when it is the worker's first (a new worker to route to). Ignored for a worker not Up or unreachable.</summary>
    public bool Update(string address, WorkerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!_workers.TryGetValue(address, out Entry? entry) || !entry.Reachable)
        {
            return false;
        }

        bool first = entry.State is null;
        entry.State = state;
        // The state counts what the worker holds now, so this frontend's earlier routings are in it
        // (or about to be: the few in flight are counted once more than they should, briefly).
        entry.Assigned = 0;
        entry.Refused = false;
        return first;
    }

    /// <summary>The worker refused a request as draining or unavailable: it takes none until its next state says it serves.</summary>
    public void Refused(string address)
    {
        if (_workers.TryGetValue(address, out Entry? entry))
        {
            entry.Refused = true;
        }
    }

    /// <summary>The worker for <paramref name="need"/> (see <see cref="WorkerRouter"/>), counted as one more waiting request there; null when none fits now.</summary>
    public WorkerLoad? Route(RouteNeed need)
    {
        ArgumentNullException.ThrowIfNull(need);
        IReadOnlyList<WorkerLoad> loads = Loads;
        WorkerLoad? chosen = need.Fingerprint is { } fingerprint
            ? WorkerRouter.ForFailover(fingerprint, need.Excluded ?? string.Empty, loads)
            : _roundRobin
                ? WorkerRouter.ForNewRequestInTurn(need.Model, loads.Where(w => w.Address != need.Excluded), _turn++)
                : WorkerRouter.ForNewRequest(need.Model, loads.Where(w => w.Address != need.Excluded));
        if (chosen is not null)
        {
            _workers[chosen.Address].Assigned++;
        }

        return chosen;
    }

    private static WorkerLoad Load(string address, Entry entry)
    {
        WorkerState state = entry.State!;
        return new WorkerLoad(address, state.Fingerprint, state.Running, state.Waiting + entry.Assigned, state.KvSlotsUsed + state.KvSlotsFree, state.Serving && !entry.Refused);
    }

    private sealed class Entry
    {
        public bool Reachable { get; set; } = true;

        public WorkerState? State { get; set; }

        public int Assigned { get; set; }

        public bool Refused { get; set; }
    }
}
