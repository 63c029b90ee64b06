using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference.Baselines;

/// <summary>
/// One request at a time, FIFO, on one model (the paper's first baseline, and what
/// <c>flover generate</c> does for a single prompt): the instances scheduler with one instance.
/// Not thread-safe: one owner calls it.
/// </summary>
public sealed class SequentialScheduler : IDecodeScheduler
{
    private readonly InstancesScheduler _single;

    /// <summary>Creates the scheduler on <paramref name="model"/> (slot 0 is used).</summary>
    public SequentialScheduler(IModel model, DecodeLoopOptions options, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _single = new InstancesScheduler([model], options, clock);
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
    public string? Submit(long requestId, ReadOnlyMemory<int> prompt, SamplingParameters parameters, DateTimeOffset? deadline = null) =>
        _single.Submit(requestId, prompt, parameters, deadline);

    /// <inheritdoc />
    public void Cancel(long requestId) => _single.Cancel(requestId);

    /// <inheritdoc />
    public void StopSequenceFound(long requestId) => _single.StopSequenceFound(requestId);

    /// <summary>One token of the running request (its prefill the first time), after starting the next one if none runs.</summary>
    public IterationReport Step() => _single.Step();
}
