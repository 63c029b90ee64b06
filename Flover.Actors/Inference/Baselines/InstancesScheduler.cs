using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference.Baselines;

/// <summary>
/// Concurrent model instances, the paper's second baseline: N instances (each its own KV slot,
/// workspace and kernel workers, all sharing one upload of the read-only weights) each serve one
/// request at a time, FIFO; an idle instance takes the oldest waiting request. One
/// <see cref="Step"/> advances every busy instance by one token at the same time, each on its own
/// thread, so instances run side by side as separate sessions would (in lock-step per token, not
/// free-running: with equal per-token costs that is the same schedule). With
/// <c>instances.count = per-request</c> an instance is created for each request that finds none
/// idle. Not thread-safe: one owner calls it; dispose it to stop the instance threads.
/// </summary>
public sealed class InstancesScheduler : IDecodeScheduler, IDisposable
{
    private readonly List<IModel> _models;
    private readonly Func<int, IModel>? _newInstance;
    private readonly InstanceThreads _threads = new();
    private readonly List<StaticBatch?> _running = [];
    private readonly RequestQueue _queue;

    /// <summary>A fixed set of instances.</summary>
    /// <param name="models">The instances (at least one, each with at least one KV slot), all of one model.</param>
    /// <param name="options">Queue bound and end-of-sequence id.</param>
    /// <param name="clock">Time for deadlines.</param>
    public InstancesScheduler(IReadOnlyList<IModel> models, DecodeLoopOptions options, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0)
        {
            throw new ArgumentException("The instances scheduler needs at least one model instance.", nameof(models));
        }

        _models = [.. models];
        _queue = RequestQueue.For(_models[0], options, clock);
        _running.AddRange(_models.Select(_ => (StaticBatch?)null));
    }

    /// <summary>
    /// One instance per request: <paramref name="newInstance"/>(index) is called when a request
    /// finds no idle instance (instance 0 at once, to learn the model's shape).
    /// </summary>
    /// <param name="newInstance">Creates instance number i (0-based); the caller owns and disposes what it returns.</param>
    /// <param name="options">Queue bound and end-of-sequence id.</param>
    /// <param name="clock">Time for deadlines.</param>
    public InstancesScheduler(Func<int, IModel> newInstance, DecodeLoopOptions options, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(newInstance);
        ArgumentNullException.ThrowIfNull(options);
        _newInstance = newInstance;
        _models = [newInstance(0)];
        _running.Add(null);
        _queue = RequestQueue.For(_models[0], options, clock);
    }

    /// <inheritdoc />
    public string Kind => "instances";

    /// <summary>Instances created so far.</summary>
    public int InstanceCount => _models.Count;

    /// <inheritdoc />
    public int WaitingCount => _queue.WaitingCount;

    /// <inheritdoc />
    public int RunningCount => _running.Count(b => b is not null);

    /// <inheritdoc />
    public int SlotsUsed => RunningCount;

    /// <inheritdoc />
    public bool HasWork => _queue.Count > 0;

    /// <summary>Always null: an idle instance starts a request at once.</summary>
    public DateTimeOffset? NextStepAt => null;

    /// <inheritdoc />
    public string? Submit(long requestId, ReadOnlyMemory<int> prompt, SamplingParameters parameters, DateTimeOffset? deadline = null) =>
        _queue.Submit(requestId, prompt, parameters, deadline);

    /// <inheritdoc />
    public void Cancel(long requestId) => _queue.MarkRetire(requestId, FinishReason.Cancelled);

    /// <inheritdoc />
    public void StopSequenceFound(long requestId) => _queue.MarkRetire(requestId, FinishReason.StopSequence);

    /// <summary>Idle instances take waiting requests; every busy instance produces its next token, all at once.</summary>
    public IterationReport Step()
    {
        RequestQueue queue = _queue;
        DateTimeOffset now = queue.Clock.GetUtcNow();
        var finished = new List<LoopFinished>();
        queue.RetireWaiting(finished, now);
        AssignWaiting(queue);
        var busy = new List<StaticBatch>();
        var work = new List<Action>();
        foreach (StaticBatch? batch in _running)
        {
            if (batch is not null)
            {
                busy.Add(batch);
                work.Add(() => batch.Step(now));
            }
        }

        _threads.Run(work);
        var tokens = new List<LoopToken>();
        int rows = 0, live = 0, prefilled = 0;
        bool failed = false;
        foreach (StaticBatch batch in busy)
        {
            tokens.AddRange(batch.Tokens);
            finished.AddRange(batch.Finished);
            rows += batch.DecodeRows;
            live += batch.LiveRows;
            prefilled += batch.PrefillTokens;
            failed |= batch.Failed;
        }

        for (int i = 0; i < _running.Count; i++)
        {
            if (_running[i]?.Done == true)
            {
                _running[i] = null;
            }
        }

        queue.Forget(finished);
        return new IterationReport(tokens, finished, null, rows, live, prefilled, failed);
    }

    /// <summary>Stops the instance threads (the models stay the caller's).</summary>
    public void Dispose() => _threads.Dispose();

    private void AssignWaiting(RequestQueue queue)
    {
        for (int i = 0; i < _running.Count && queue.WaitingCount > 0; i++)
        {
            _running[i] ??= new StaticBatch(_models[i], [queue.Dequeue()], keepFinishedRows: false);
        }

        while (_newInstance is not null && queue.WaitingCount > 0)
        {
            IModel model = _newInstance(_models.Count);
            _models.Add(model);
            _running.Add(new StaticBatch(model, [queue.Dequeue()], keepFinishedRows: false));
        }
    }
}
