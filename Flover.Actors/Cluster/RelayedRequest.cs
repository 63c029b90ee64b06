using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Cluster;

/// <summary>What the frontend does with a message a worker sent for a relayed request.</summary>
internal enum RelayAction
{
    /// <summary>From an earlier attempt or a duplicate: drop it.</summary>
    Ignore,

    /// <summary>Pass <see cref="RelayOutcome.Message"/> to the client (the last one ends the request).</summary>
    Relay,

    /// <summary>The worker failed the request: find another one (<see cref="RelayedRequest.Need"/>) and continue there.</summary>
    FailOver,
}

/// <summary>A decision of <see cref="RelayedRequest"/>: what to do, and the message for the client when relaying.</summary>
internal readonly record struct RelayOutcome(RelayAction Action, object? Message = null)
{
    public static RelayOutcome Ignore { get; } = new(RelayAction.Ignore);

    public static RelayOutcome FailOver { get; } = new(RelayAction.FailOver);
}

/// <summary>
/// One request a frontend relays to workers, as a plain class (the frontend's request actor owns
/// it): the token history the client has received, the worker it runs on and the attempt there.
/// Each attempt is a <see cref="Generate"/> with its own correlation id (<c>id@attempt</c>) carrying
/// the history (<see cref="Generate.ContinueFrom"/>), so a message from an attempt abandoned on a
/// lost worker that is still alive is recognised and dropped; a token is relayed only when its index
/// is the history's length, so the client sees every token exactly once and in order, whatever
/// workers it came from.
/// </summary>
internal sealed class RelayedRequest(Generate request, string model, int maxFailovers)
{
    private readonly List<int> _history = [];

    /// <summary>The client's request.</summary>
    public Generate Request { get; } = request;

    /// <summary>Token ids the client has received.</summary>
    public IReadOnlyList<int> History => _history;

    /// <summary>The worker of the attempt in flight, or null while the request looks for one.</summary>
    public string? Worker { get; private set; }

    /// <summary>What the request's tokens came from (the first worker that produced one); failover must match it.</summary>
    public WorkerFingerprint? Fingerprint { get; private set; }

    /// <summary>Attempts started (1 on the first worker).</summary>
    public int Attempts { get; private set; }

    /// <summary>The correlation id of the attempt in flight.</summary>
    public string AttemptId => $"{Request.CorrelationId}@{Attempts}";

    /// <summary>Whether another worker may still be tried after a failure.</summary>
    public bool CanFailOver => Attempts <= maxFailovers;

    private WorkerFingerprint? _attemptFingerprint;
    private string? _lost;

    /// <summary>The worker that last refused the request as draining or unavailable (its state may not say so yet), or null.</summary>
    public string? RefusedBy { get; private set; }

    /// <summary>What a worker must offer for the next attempt: a continuation needs the fingerprint its tokens came from.</summary>
    public RouteNeed Need => new(model, _history.Count > 0 ? Fingerprint : null, _lost);

    /// <summary>Starts an attempt on <paramref name="worker"/>: the message to send it.</summary>
    public Generate Start(WorkerLoad worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        Attempts++;
        RefusedBy = null;
        Worker = worker.Address;
        _attemptFingerprint = worker.Fingerprint;
        return Request with { CorrelationId = AttemptId, ContinueFrom = [.. _history] };
    }

    /// <summary>A token from a worker: relayed (with the client's correlation id) when it is the attempt's and the next in order.</summary>
    public RelayOutcome OnToken(Token token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.CorrelationId != AttemptId || Worker is null || token.Index != _history.Count)
        {
            return RelayOutcome.Ignore;
        }

        _history.Add(token.TokenId);
        Fingerprint ??= _attemptFingerprint;
        return new RelayOutcome(RelayAction.Relay, token with { CorrelationId = Request.CorrelationId });
    }

    /// <summary>
    /// The attempt ended. An error fails over while attempts remain (a worker that stops ends its
    /// requests with an error, often before the cluster reports it gone); anything else is the end.
    /// </summary>
    public RelayOutcome OnCompleted(Completed completed)
    {
        ArgumentNullException.ThrowIfNull(completed);
        if (completed.CorrelationId != AttemptId || Worker is null)
        {
            return RelayOutcome.Ignore;
        }

        if (completed.FinishReason == FinishReason.Error && CanFailOver)
        {
            return Lose();
        }

        return new RelayOutcome(RelayAction.Relay, completed with { CorrelationId = Request.CorrelationId });
    }

    /// <summary>
    /// The attempt was refused. A draining or unavailable worker, or one refusing a continuation,
    /// is left for another while attempts remain; otherwise a new request's refusal is the client's,
    /// and a continued one ends with an error (the client already has tokens).
    /// </summary>
    public RelayOutcome OnRejected(Rejected rejected)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        if (rejected.CorrelationId != AttemptId || Worker is null)
        {
            return RelayOutcome.Ignore;
        }

        bool workerProblem = rejected.Code is RejectionCode.Draining or RejectionCode.EngineUnavailable;
        if ((workerProblem || _history.Count > 0) && CanFailOver)
        {
            RefusedBy = workerProblem ? Worker : null;
            return Lose();
        }

        return new RelayOutcome(RelayAction.Relay, _history.Count == 0
            ? rejected with { CorrelationId = Request.CorrelationId }
            : (object)Ended(FinishReason.Error, $"the request could not continue on another worker: {rejected.Reason}"));
    }

    /// <summary>The cluster lost <paramref name="address"/>: fail over when the attempt runs there (or end, when no attempt is left).</summary>
    public RelayOutcome OnWorkerLost(string address)
    {
        if (Worker != address)
        {
            return RelayOutcome.Ignore;
        }

        return CanFailOver
            ? Lose()
            : new RelayOutcome(RelayAction.Relay, GiveUp($"the worker {address} was lost after {Attempts} attempts (flover.cluster.max-failovers)"));
    }

    /// <summary>No worker could take the request in time: the client's last message.</summary>
    public object GiveUp(string why) => _history.Count == 0
        ? new Rejected(why, RejectionCode.EngineUnavailable) { CorrelationId = Request.CorrelationId }
        : Ended(FinishReason.Error, why);

    /// <summary>The request ended on the frontend (cancelled while no worker held it, or given up).</summary>
    public Completed Ended(FinishReason reason, string? error = null) =>
        new(reason, new Usage(Request.PromptTokenIds.Count, _history.Count), string.Empty, error) { CorrelationId = Request.CorrelationId };

    private RelayOutcome Lose()
    {
        _lost = Worker;
        Worker = null;
        return RelayOutcome.FailOver;
    }
}
