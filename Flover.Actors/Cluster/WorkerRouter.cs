namespace Flover.Actors.Cluster;

/// <summary>One worker as a frontend sees it: its identity, what it runs and its load (from the EngineStatus it publishes).</summary>
/// <param name="Address">The worker's cluster address (unique, ordered for tie-breaks).</param>
/// <param name="Fingerprint">What it runs.</param>
/// <param name="Running">Requests holding a KV slot.</param>
/// <param name="Waiting">Requests queued for admission.</param>
/// <param name="KvSlots">KV slots in its pool.</param>
/// <param name="Serving">False while it drains (a graceful leave) or is not ready: it takes no new requests.</param>
public sealed record WorkerLoad(string Address, WorkerFingerprint Fingerprint, int Running, int Waiting, int KvSlots, bool Serving = true)
{
    /// <summary>Requests per slot, queued ones included: the load routing compares (a worker with more slots takes more).</summary>
    public double Occupancy => KvSlots <= 0 ? double.PositiveInfinity : (double)(Running + Waiting) / KvSlots;
}

/// <summary>
/// Where a frontend sends a request: a pure decision over the workers it knows, tested without
/// actors. New requests go to the least-occupied serving worker of the requested model; a request
/// whose worker was lost goes to the least-occupied serving worker with a fingerprint it can
/// continue on, or waits when there is none.
/// </summary>
public static class WorkerRouter
{
    /// <summary>
    /// The worker for a new request for <paramref name="model"/>: the serving worker with the lowest
    /// occupancy, ties broken by fewer waiting requests, then by address (deterministic); null when
    /// no serving worker runs the model.
    /// </summary>
    public static WorkerLoad? ForNewRequest(string model, IEnumerable<WorkerLoad> workers)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(workers);
        return Least(workers.Where(w => w.Serving && w.Fingerprint.Model == model));
    }

    /// <summary>
    /// The worker for a new request under round-robin routing (the baseline least-loaded routing is
    /// measured against): the serving workers of <paramref name="model"/> in address order, the
    /// <paramref name="turn"/>-th modulo their count, whatever their load; null when there is none.
    /// </summary>
    public static WorkerLoad? ForNewRequestInTurn(string model, IEnumerable<WorkerLoad> workers, long turn)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(workers);
        WorkerLoad[] serving = [.. workers.Where(w => w.Serving && w.Fingerprint.Model == model).OrderBy(w => w.Address, StringComparer.Ordinal)];
        return serving.Length == 0 ? null : serving[(int)(turn % serving.Length)];
    }

    /// <summary>
    /// The worker a request started on a worker with <paramref name="fingerprint"/> fails over to,
    /// other than <paramref name="lost"/>: the least-occupied serving worker it can continue on, or
    /// null (the request waits for one, up to the configured time).
    /// </summary>
    public static WorkerLoad? ForFailover(WorkerFingerprint fingerprint, string lost, IEnumerable<WorkerLoad> workers)
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        ArgumentNullException.ThrowIfNull(workers);
        return Least(workers.Where(w => w.Serving && w.Address != lost && fingerprint.CanContinueOn(w.Fingerprint)));
    }

    /// <summary>The models the serving workers run, each once, in order (what <c>/v1/models</c> lists).</summary>
    public static IReadOnlyList<string> Models(IEnumerable<WorkerLoad> workers)
    {
        ArgumentNullException.ThrowIfNull(workers);
        return [.. workers.Where(w => w.Serving).Select(w => w.Fingerprint.Model).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    private static WorkerLoad? Least(IEnumerable<WorkerLoad> candidates) =>
        candidates
            .OrderBy(w => w.Occupancy)
            .ThenBy(w => w.Waiting)
            .ThenBy(w => w.Address, StringComparer.Ordinal)
            .FirstOrDefault();
}
