using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference.Baselines;

/// <summary>
/// One request at a time, FIFO, on one model (the paper's first baseline, and what
/// <c>flover generate</c> does for a single prompt): dynamic batching with batches of one and no
/// window, each request run from prefill to its end before the next starts. Not thread-safe: one
/// owner calls it.
/// </summary>
public sealed class SequentialScheduler : IDecodeScheduler
{
    private readonly DynamicBatchScheduler _single;

    /// <summary>Creates the scheduler for a model of <paramref name="model"/>'s shape (slot 0 is used).</summary>
    public SequentialScheduler(ModelShape model, DecodeLoopOptions options, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _single = new DynamicBatchScheduler(model, 1, TimeSpan.Zero, options, clock);
    }

    /// <inheritdoc />
    public string Kind => "sequential";

    /// <inheritdoc />
    public int WaitingCount => _single.WaitingCount;

    /// <inheritdoc />
    public int RunningCount => _single.RunningCount;

    /// <inheritdoc />
    public int SlotsUsed => _single.SlotsUsed;

    /// <inheritdoc />
    public int SlotsFree => _single.SlotsFree;

    /// <inheritdoc />
    public bool HasWork => _single.HasWork;

    /// <inheritdoc />
    public int SlotCount => _single.SlotCount;

    /// <inheritdoc />
    public void DescribeSlots(Span<KvSlot> slots) => _single.DescribeSlots(slots);

    /// <inheritdoc />
    public DateTimeOffset? NextStepAt => null;

    /// <inheritdoc />
    public string? Submit(long requestId, ReadOnlyMemory<int> prompt, SamplingParameters parameters, DateTimeOffset? deadline = null, ReadOnlyMemory<int> continueFrom = default) =>
        _single.Submit(requestId, prompt, parameters, deadline, continueFrom);

    /// <inheritdoc />
    public void Cancel(long requestId) => _single.Cancel(requestId);

    /// <inheritdoc />
    public void StopSequenceFound(long requestId) => _single.StopSequenceFound(requestId);

    /// <summary>One slot.</summary>
    public int ModelSlots => 1;

    /// <summary>Never: one slot does not compact.</summary>
    public CompactionRequest? CompactionWanted => null;

    /// <summary>Refused: one slot does not compact.</summary>
    public bool OfferCompaction(Gpu.Memory.CompactionPlan plan, long version) => false;

    /// <summary>One token of the running request (its prefill the first time), after starting the next one if none runs.</summary>
    public ModelStep PlanStep() => _single.PlanStep();

    /// <inheritdoc />
    public IterationReport CompleteStep(ModelStepResult result) => _single.CompleteStep(result);

    /// <inheritdoc />
    public IterationReport FailStep(string reason) => _single.FailStep(reason);
}
