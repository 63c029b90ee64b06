using Flover.Gpu.Memory;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Inference;

/// <summary>
/// What drives requests through a model, one iteration at a time, in two phases: the fused loop
/// (<see cref="FusedDecodeLoop"/>) or a request-level baseline (dynamic batching, concurrent
/// instances, one at a time). <see cref="PlanStep"/> decides the iteration (retirements,
/// admissions, the rows to compute) and returns the <see cref="ModelStep"/> the model must run;
/// the driver (the decode loop actor) has the model's shards execute it, and hands the result to
/// <see cref="CompleteStep"/> (or the failure to <see cref="FailStep"/>), which samples and
/// reports. The scheduler never calls a model itself, so the driver may await the shards
/// asynchronously; <see cref="Submit"/>, <see cref="Cancel"/> and <see cref="StopSequenceFound"/>
/// may be called between the phases and take effect at the next plan. Every scheduler gives each
/// request exactly the tokens it gets alone. Not thread-safe: one owner calls it.
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

    /// <summary>True while any request is waiting or running, or a step has memory to hand back (<see cref="ModelStep.Released"/>).</summary>
    bool HasWork { get; }

    /// <summary>
    /// Null when a step would do work now (if <see cref="HasWork"/>); otherwise the time before
    /// which a step does nothing (a batching window that is still open), so the driver may wait.
    /// </summary>
    DateTimeOffset? NextStepAt { get; }

    /// <summary>Queues a request; returns null when accepted, or why it was rejected.</summary>
    /// <param name="requestId">The request's id in this scheduler.</param>
    /// <param name="prompt">The prompt's token ids.</param>
    /// <param name="parameters">How to sample.</param>
    /// <param name="deadline">When the request times out, if ever.</param>
    /// <param name="continueFrom">
    /// Tokens the request already generated elsewhere (<see cref="Generate.ContinueFrom"/>): it
    /// continues as if never interrupted, its next token numbered and sampled as the
    /// <c>continueFrom.Length</c>-th; empty for a new request. A scheduler that cannot continue a
    /// request rejects a non-empty one.
    /// </param>
    string? Submit(long requestId, ReadOnlyMemory<int> prompt, SamplingParameters parameters, DateTimeOffset? deadline = null, ReadOnlyMemory<int> continueFrom = default);

    /// <summary>Ends the request at the next step with <see cref="FinishReason.Cancelled"/>; unknown ids are ignored.</summary>
    void Cancel(long requestId);

    /// <summary>The client found a stop sequence: the request ends at the next step with <see cref="FinishReason.StopSequence"/>.</summary>
    void StopSequenceFound(long requestId);

    /// <summary>
    /// KV slots the driver's model must have for this scheduler's plans; 0 when the scheduler runs
    /// model instances of its own (concurrent instances) and its plans are always empty.
    /// </summary>
    int ModelSlots { get; }

    /// <summary>
    /// Phase one of an iteration (call while <see cref="HasWork"/>, not before
    /// <see cref="NextStepAt"/>): retires cancelled and expired requests, applies an accepted
    /// compaction, admits waiting requests, and returns what the model must compute; an empty step
    /// needs no model. Exactly one <see cref="CompleteStep"/> or <see cref="FailStep"/> follows.
    /// </summary>
    /// <exception cref="InvalidOperationException">The previous step has not been completed.</exception>
    ModelStep PlanStep();

    /// <summary>Phase two: samples the step's logits and reports the tokens produced and the requests that left.</summary>
    /// <param name="result">What the model returned for the planned step (<see cref="ModelStepResult.Empty"/> for an empty one).</param>
    IterationReport CompleteStep(ModelStepResult result);

    /// <summary>
    /// Phase two when the model could not run the step (a shard failed, stopped or timed out): every
    /// sequence holding a slot goes back to the queue with its history, to be re-prefilled, so no
    /// token is lost or repeated; one implicated in too many failed steps in a row ends with Error.
    /// </summary>
    /// <param name="reason">What went wrong, one line (ends up in a failed request's error).</param>
    IterationReport FailStep(string reason);

    /// <summary>
    /// The slot occupancy to plan a KV compaction on when one is worth planning (shuffle mode,
    /// holes inside the window), else null. The plan is made off the scheduler (the shuffle actor)
    /// and handed back through <see cref="OfferCompaction"/>.
    /// </summary>
    CompactionRequest? CompactionWanted { get; }

    /// <summary>
    /// A compaction planned for <paramref name="version"/> of the occupancy: accepted (its copies run
    /// first in the next planned step) when the occupancy is still that version, else refused.
    /// </summary>
    /// <returns>True when accepted.</returns>
    bool OfferCompaction(CompactionPlan plan, long version);
}

/// <summary>A scheduler's slot occupancy at <paramref name="Version"/>, for a compaction to be planned on.</summary>
/// <param name="Live">One entry per KV slot: true when a live sequence holds it.</param>
/// <param name="Version">Changes whenever a slot is taken or freed: a plan made for another version is stale.</param>
public sealed record CompactionRequest(bool[] Live, long Version);
