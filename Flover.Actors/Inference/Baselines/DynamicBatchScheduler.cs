using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference.Baselines;

/// <summary>
/// FasterTransformer/Triton dynamic batching, the paper's main baseline: requests are gathered
/// until <c>max-batch-size</c> wait or <c>max-queue-delay</c> has passed since the oldest waiting
/// one arrived; that batch is prefilled together and decoded until its longest member is done,
/// its finished rows still computed (results discarded); nobody joins mid-flight. Then the next
/// batch. Each request still gets exactly the tokens it gets alone (the kernels are
/// batch-invariant). Not thread-safe: one owner calls it.
/// </summary>
public sealed class DynamicBatchScheduler : IDecodeScheduler
{
    private readonly ModelShape _model;
    private readonly int _maxBatchSize;
    private readonly TimeSpan _maxQueueDelay;
    private readonly RequestQueue _queue;
    private readonly bool _sampleOnDevice;
    private StaticBatch? _batch;
    private List<LoopFinished>? _planned;

    /// <summary>Creates the scheduler for a model of <paramref name="model"/>'s shape, which needs at least <paramref name="maxBatchSize"/> KV slots.</summary>
    /// <param name="model">The model's shape; batch member i uses slot i.</param>
    /// <param name="maxBatchSize">The most requests in one batch (<c>flover.scheduler.dynamic.max-batch-size</c>).</param>
    /// <param name="maxQueueDelay">How long the oldest waiting request may wait for the batch to fill (<c>flover.scheduler.dynamic.max-queue-delay</c>).</param>
    /// <param name="options">Queue bound and end-of-sequence id (memory mode and prefill budget do not apply).</param>
    /// <param name="clock">Time for the batching window and deadlines.</param>
    public DynamicBatchScheduler(ModelShape model, int maxBatchSize, TimeSpan maxQueueDelay, DecodeLoopOptions options, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueueDelay, TimeSpan.Zero);
        if (maxBatchSize > model.SlotCount)
        {
            throw new ArgumentException($"A batch of {maxBatchSize} needs {maxBatchSize} KV slots; the model has {model.SlotCount}.", nameof(maxBatchSize));
        }

        _model = model;
        _maxBatchSize = maxBatchSize;
        _maxQueueDelay = maxQueueDelay;
        _queue = RequestQueue.For(model, options, clock);
        _sampleOnDevice = options.SampleOnDevice;
    }

    /// <inheritdoc />
    public string Kind => "dynamic";

    /// <summary>One slot per batch member.</summary>
    public int ModelSlots => _maxBatchSize;

    /// <summary>Never: batches do not compact.</summary>
    public CompactionRequest? CompactionWanted => null;

    /// <inheritdoc />
    public int WaitingCount => _queue.WaitingCount;

    /// <inheritdoc />
    public int RunningCount => _batch?.LiveCount ?? 0;

    /// <summary>The whole batch's slots: finished rows stay in it until it is done.</summary>
    public int SlotsUsed => _batch?.Members.Count ?? 0;

    /// <inheritdoc />
    public int SlotsFree => _maxBatchSize - SlotsUsed;

    /// <inheritdoc />
    public bool HasWork => _queue.Count > 0;

    /// <summary>The batch's positions: one per request a batch may hold.</summary>
    public int SlotCount => _maxBatchSize;

    /// <summary>The running batch's members by their slot: held while live; a finished member whose row the batch still computes is a hole.</summary>
    public void DescribeSlots(Span<KvSlot> slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots.Length, SlotCount, nameof(slots));
        slots[..SlotCount].Fill(KvSlot.Free);
        foreach (BaselineRequest member in _batch?.Members ?? [])
        {
            slots[member.Slot] = member.Finished is null ? KvSlot.HeldBy(member.Id) : KvSlot.Hole;
        }
    }

    /// <summary>While no batch runs and fewer than a full batch wait: when the oldest one's window closes.</summary>
    public DateTimeOffset? NextStepAt
    {
        get
        {
            if (_batch is not null || _queue.Oldest is not { } oldest || _queue.WaitingCount >= _maxBatchSize)
            {
                return null;
            }

            DateTimeOffset closes = oldest.SubmittedAt + _maxQueueDelay;
            return closes > _queue.Clock.GetUtcNow() ? closes : null;
        }
    }

    /// <inheritdoc />
    public string? Submit(long requestId, ReadOnlyMemory<int> prompt, SamplingParameters parameters, DateTimeOffset? deadline = null, ReadOnlyMemory<int> continueFrom = default) =>
        _queue.Submit(requestId, prompt, parameters, deadline, continueFrom);

    /// <inheritdoc />
    public void Cancel(long requestId) => _queue.MarkRetire(requestId, FinishReason.Cancelled);

    /// <inheritdoc />
    public void StopSequenceFound(long requestId) => _queue.MarkRetire(requestId, FinishReason.StopSequence);

    /// <summary>Refused: batches do not compact.</summary>
    public bool OfferCompaction(Gpu.Memory.CompactionPlan plan, long version) => false;

    /// <summary>Starts a batch when it is full or its window has closed, then plans one iteration of the running batch.</summary>
    public ModelStep PlanStep()
    {
        if (_planned is not null)
        {
            throw new InvalidOperationException("The previous step has not been completed (CompleteStep or FailStep).");
        }

        DateTimeOffset now = _queue.Clock.GetUtcNow();
        _planned = [];
        _queue.RetireWaiting(_planned, now);
        if (_batch is null && _queue.WaitingCount > 0 && NextStepAt is null)
        {
            var members = new List<BaselineRequest>();
            while (members.Count < _maxBatchSize && _queue.WaitingCount > 0)
            {
                members.Add(_queue.Dequeue());
            }

            _batch = new StaticBatch(_model, members, keepFinishedRows: true, _sampleOnDevice);
        }

        return _batch?.Plan(now) ?? ModelStep.Empty;
    }

    /// <inheritdoc />
    public IterationReport CompleteStep(ModelStepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Report(batch => batch.Complete(result));
    }

    /// <inheritdoc />
    public IterationReport FailStep(string reason) => Report(batch => batch.Fail(reason));

    private IterationReport Report(Action<StaticBatch> complete)
    {
        List<LoopFinished> finished = _planned ?? throw new InvalidOperationException("No step is planned: call PlanStep first.");
        _planned = null;
        if (_batch is null)
        {
            return new IterationReport([], finished, null, 0, 0, 0, false);
        }

        complete(_batch);
        finished.AddRange(_batch.Finished);
        _queue.Forget(finished);
        var report = new IterationReport([.. _batch.Tokens], finished, null, _batch.DecodeRows, _batch.LiveRows, _batch.PrefillTokens, _batch.Failed);
        if (_batch.Done)
        {
            _batch = null;
        }

        return report;
    }
}
