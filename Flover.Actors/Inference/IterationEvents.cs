using Akka.Actor;
using Flover.Gpu.Memory;

namespace Flover.Actors.Inference;

/// <summary>What one KV slot holds at a moment (<see cref="KvSlot"/>).</summary>
public enum KvSlotState
{
    /// <summary>Free, and no step computes it.</summary>
    Free,

    /// <summary>Held by a live request (<see cref="KvSlot.RequestId"/>).</summary>
    Held,

    /// <summary>
    /// Free, but a step still computes it: an interior hole of the window in the holes and
    /// shuffle memory modes, or a finished row a static batch carries (dynamic batching).
    /// </summary>
    Hole,
}

/// <summary>One KV slot in a <see cref="IterationSummary"/>.</summary>
/// <param name="State">Free, held or a hole.</param>
/// <param name="RequestId">The request holding it (the engine's request id), for <see cref="KvSlotState.Held"/>.</param>
public readonly record struct KvSlot(KvSlotState State, long? RequestId = null)
{
    /// <summary>A free slot.</summary>
    public static KvSlot Free { get; } = new(KvSlotState.Free);

    /// <summary>A hole: computed, holding no live request.</summary>
    public static KvSlot Hole { get; } = new(KvSlotState.Hole);

    /// <summary>A slot held by <paramref name="requestId"/>.</summary>
    public static KvSlot HeldBy(long requestId) => new(KvSlotState.Held, requestId);
}

/// <summary>
/// A summary of the decode loop's iterations since the previous one, published on the actor
/// system's EventStream at most every <c>flover.engine.iteration-events-interval</c> while the
/// loop works, and once more when it goes idle. It carries request ids and counts only, never
/// prompts or text. Subscribe with <c>system.EventStream.Subscribe(actor, typeof(IterationSummary))</c>.
/// </summary>
/// <param name="Start">Start of the interval summarised.</param>
/// <param name="End">End of the interval (when it was published).</param>
/// <param name="Kind">The scheduler (<c>flover.scheduler.kind</c>).</param>
/// <param name="Iterations">Iterations in the interval.</param>
/// <param name="RowsPerStep">Rows of the fused decode step of each iteration, in order (the first <see cref="MaxRowsPerStep"/> of the interval; <see cref="Iterations"/> counts all).</param>
/// <param name="MaxRows">The largest step in the interval (0 with no step).</param>
/// <param name="MeanRows">Rows per step averaged over the interval's iterations.</param>
/// <param name="Tokens">Tokens generated in the interval.</param>
/// <param name="TokensPerSecond">Tokens over the interval's length.</param>
/// <param name="Slots">Every KV slot as the interval ends.</param>
/// <param name="Moves">KV shuffle moves applied in the interval, in order (from slot, to slot).</param>
/// <param name="Waiting">Requests waiting for admission as the interval ends.</param>
/// <param name="Running">Requests holding a slot as the interval ends.</param>
public sealed record IterationSummary(
    DateTimeOffset Start,
    DateTimeOffset End,
    string Kind,
    int Iterations,
    IReadOnlyList<int> RowsPerStep,
    int MaxRows,
    double MeanRows,
    long Tokens,
    double TokensPerSecond,
    IReadOnlyList<KvSlot> Slots,
    IReadOnlyList<SlotMove> Moves,
    int Waiting,
    int Running) : INoSerializationVerificationNeeded
{
    /// <summary>Most step sizes one summary lists; a loop stepping faster than this per interval is summarised by the counts.</summary>
    public const int MaxRowsPerStep = 1024;
}
