using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference;

/// <summary>
/// What drives requests through a model, one call to <see cref="Step"/> at a time: the fused loop
/// (<see cref="FusedDecodeLoop"/>) or a request-level baseline (dynamic batching, concurrent
/// instances, one at a time). A driver (the decode loop actor, <c>flover bench</c>) submits and
/// cancels requests between steps and calls <see cref="Step"/> while <see cref="HasWork"/>, not
/// before <see cref="NextStepAt"/>. Every scheduler gives each request exactly the tokens it gets
/// alone. Not thread-safe: one owner calls it.
/// </summary>
public interface IDecodeScheduler
{
    /// <summary>The scheduler's name in <c>flover.scheduler.kind</c>: fused, dynamic, instances or sequential.</summary>
    string Kind { get; }

    /// <summary>Requests waiting to start.</summary>
    int WaitingCount { get; }

    /// <summary>Requests running (holding a KV slot).</summary>
    int RunningCount { get; }

    /// <summary>KV slots holding a sequence, finished rows a batch still carries included.</summary>
    int SlotsUsed { get; }

    /// <summary>KV slots (or idle instances) ready for a request now.</summary>
    int SlotsFree { get; }

    /// <summary>Slots <see cref="DescribeSlots"/> reports: the KV slots (or instances) the scheduler drives.</summary>
    int SlotCount { get; }

    /// <summary>Writes what each of the <see cref="SlotCount"/> slots holds into <paramref name="slots"/> (free, held by a request id, or a hole a step still computes); for the iteration summaries.</summary>
    void DescribeSlots(Span<KvSlot> slots);

    /// <summary>True while any request is waiting or running.</summary>
    bool HasWork { get; }

    /// <summary>
    /// Null when a step would do work now (if <see cref="HasWork"/>); otherwise the time before
    /// which a step does nothing (a batching window that is still open), so the driver may wait.
    /// </summary>
    DateTimeOffset? NextStepAt { get; }

    /// <summary>Queues a request; returns null when accepted, or why it was rejected.</summary>
    string? Submit(long requestId, ReadOnlyMemory<int> prompt, SamplingParameters parameters, DateTimeOffset? deadline = null);

    /// <summary>Ends the request at the next step with <see cref="FinishReason.Cancelled"/>; unknown ids are ignored.</summary>
    void Cancel(long requestId);

    /// <summary>The client found a stop sequence: the request ends at the next step with <see cref="FinishReason.StopSequence"/>.</summary>
    void StopSequenceFound(long requestId);

    /// <summary>One iteration: the tokens produced and the requests that left.</summary>
    IterationReport Step();
}
