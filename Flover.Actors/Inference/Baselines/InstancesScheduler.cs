using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference.Baselines;

/// <summary>
/// Concurrent model instances, the paper's second baseline: N instances (each its own KV slot,
/// workspace and kernel workers, all sharing one upload of the read-only weights) each serve one
/// request at a time, FIFO; an idle instance takes the oldest waiting request (when the owner
/// next calls <see cref="PlanStep"/>). Busy instances run free, each on its own thread, as separate
/// sessions would: they are model sessions of their own, not the driver's model, so the plans this
/// scheduler returns are always empty and <see cref="CompleteStep"/> collects the tokens the
/// instances have produced (blocking until one has). With <c>instances.count = per-request</c> an
/// instance is created for each request that finds none idle. Not thread-safe: one owner calls
/// it; dispose it to stop the instance threads.
/// </summary>
public sealed class InstancesScheduler : IDecodeScheduler, IDisposable
{
    private readonly List<IModel> _models;
    private readonly Func<int, IModel>? _newInstance;
    private readonly InstanceThreads _threads;
    private readonly List<StaticBatch?> _running = [];
    private readonly RequestQueue _queue;
    private readonly bool _sampleOnDevice;
    private List<LoopFinished>? _planned;

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
        _queue = RequestQueue.For(ModelShape.Of(_models[0]), options, clock);
        _sampleOnDevice = options.SampleOnDevice;
        _threads = new InstanceThreads(_queue.Clock);
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
        _queue = RequestQueue.For(ModelShape.Of(_models[0]), options, clock);
        _sampleOnDevice = options.SampleOnDevice;
        _threads = new InstanceThreads(_queue.Clock);
    }

    /// <inheritdoc />
    public string Kind => "instances";

    /// <summary>None: the instances are models of their own.</summary>
    public int ModelSlots => 0;

    /// <summary>Never: one request per instance does not compact.</summary>
    public CompactionRequest? CompactionWanted => null;

    /// <summary>Instances created so far.</summary>
    public int InstanceCount => _models.Count;

    /// <inheritdoc />
    public int WaitingCount => _queue.WaitingCount;

    /// <inheritdoc />
    public int RunningCount => _running.Count(b => b is not null);

    /// <inheritdoc />
    public int SlotsUsed => RunningCount;

    /// <inheritdoc />
    /// <remarks>Idle instances; one instance per request creates them as requests overlap.</remarks>
    public int SlotsFree => _running.Count - RunningCount;

    /// <inheritdoc />
    public bool HasWork => _queue.Count > 0;

    /// <summary>One slot per instance (each runs one request at a time).</summary>
    public int SlotCount => _running.Count;

    /// <summary>Each instance's slot: held by the request it runs, else free.</summary>
    public void DescribeSlots(Span<KvSlot> slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots.Length, SlotCount, nameof(slots));
        for (int instance = 0; instance < _running.Count; instance++)
        {
            // A batch is set and cleared on this (the owner's) thread; its members may be stepping on an instance thread, so only the id is read.
            slots[instance] = _running[instance] is { } batch ? KvSlot.HeldBy(batch.Members[0].Id) : KvSlot.Free;
        }
    }

    /// <summary>Always null: an idle instance starts a request at once.</summary>
    public DateTimeOffset? NextStepAt => null;

    /// <inheritdoc />
    public string? Submit(long requestId, ReadOnlyMemory<int> prompt, SamplingParameters parameters, DateTimeOffset? deadline = null, ReadOnlyMemory<int> continueFrom = default) =>
        _queue.Submit(requestId, prompt, parameters, deadline, continueFrom);

    /// <inheritdoc />
    public void Cancel(long requestId) => _queue.MarkRetire(requestId, FinishReason.Cancelled);

    /// <inheritdoc />
    public void StopSequenceFound(long requestId) => _queue.MarkRetire(requestId, FinishReason.StopSequence);

    /// <summary>Refused: one request per instance does not compact.</summary>
    public bool OfferCompaction(Gpu.Memory.CompactionPlan plan, long version) => false;

    /// <summary>Idle instances take waiting requests (and start on their threads); nothing for the driver's model.</summary>
    public ModelStep PlanStep()
    {
        if (_planned is not null)
        {
            throw new InvalidOperationException("The previous step has not been completed (CompleteStep or FailStep).");
        }

        _planned = [];
        _queue.RetireWaiting(_planned, _queue.Clock.GetUtcNow());
        AssignWaiting();
        return ModelStep.Empty;
    }

    /// <summary>Waits until any instance has produced a token (they run free on their own threads) and reports every token produced meanwhile.</summary>
    public IterationReport CompleteStep(ModelStepResult result)
    {
        List<LoopFinished> finished = _planned ?? throw new InvalidOperationException("No step is planned: call PlanStep first.");
        _planned = null;
        if (_running.All(b => b is null))
        {
            return new IterationReport([], finished, null, 0, 0, 0, false);
        }

        var tokens = new List<LoopToken>();
        int rows = 0, live = 0, prefilled = 0;
        bool failed = false;
        foreach (InstanceEvent step in _threads.WaitForEvents())
        {
            tokens.AddRange(step.Tokens);
            finished.AddRange(step.Finished);
            rows += step.DecodeRows;
            live += step.LiveRows;
            prefilled += step.PrefillTokens;
            failed |= step.Failed;
            if (step.Done)
            {
                _running[step.Instance] = null;
            }
        }

        _queue.Forget(finished);
        return new IterationReport(tokens, finished, null, rows, live, prefilled, failed);
    }

    /// <summary>The driver's model is never used, so it cannot fail; completes as <see cref="CompleteStep"/>.</summary>
    public IterationReport FailStep(string reason) => CompleteStep(ModelStepResult.Empty);

    /// <summary>Stops the instance threads (the models stay the caller's).</summary>
    public void Dispose() => _threads.Dispose();

    private void AssignWaiting()
    {
        for (int i = 0; i < _running.Count && _queue.WaitingCount > 0; i++)
        {
            if (_running[i] is null)
            {
                StartOn(i, new StaticBatch(ModelShape.Of(_models[i]), [_queue.Dequeue()], keepFinishedRows: false, _sampleOnDevice));
            }
        }

        while (_newInstance is not null && _queue.WaitingCount > 0)
        {
            _models.Add(_newInstance(_models.Count));
            _running.Add(null);
            StartOn(_models.Count - 1, new StaticBatch(ModelShape.Of(_models[^1]), [_queue.Dequeue()], keepFinishedRows: false, _sampleOnDevice));
        }
    }

    private void StartOn(int instance, StaticBatch batch)
    {
        _running[instance] = batch;
        _threads.Start(instance, batch, _models[instance]);
    }
}
