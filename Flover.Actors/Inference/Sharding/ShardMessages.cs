using Flover.Gpu.Models;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// One step of the plan every shard executes identically: prefill these prompts, or decode these
/// rows. Plain data (arrays of ints and records), so the message can cross the network when shards
/// live on other nodes; shards never decide anything on their own.
/// </summary>
/// <param name="Step">Sequence number; replies carry it so a late reply from an aborted step is recognised.</param>
/// <param name="Prefill">Prompts to prefill (admissions, chunks of long prompts), or null.</param>
/// <param name="Decode">Rows to decode, or null.</param>
public sealed record ShardStepPlan(long Step, ShardPrefill[]? Prefill, DecodeRow[]? Decode);

/// <summary>One prompt (or prompt chunk) of a <see cref="ShardStepPlan"/>.</summary>
public sealed record ShardPrefill(int Slot, int[] Tokens, int StartPosition, LogitsSelection Logits);

/// <summary>Moves a sequence's keys and values from one slot to another on every shard (the memory shuffle).</summary>
public sealed record ShardCopyPlan(long Step, int FromSlot, int ToSlot, int Length);

/// <summary>
/// A shard finished a step. Rank 0 carries the gathered logits (in process: a reference to its
/// buffer, valid until the next step; across nodes the rows would be sent).
/// </summary>
public sealed record ShardStepCompleted(long Step, int Rank, ModelLogits? Logits);

/// <summary>A shard's step failed; the group was aborted so no other shard waits for it.</summary>
public sealed record ShardStepFailed(long Step, int Rank, string Error);

/// <summary>Asks a shard whether it has loaded its weights (answered with <see cref="ShardReady"/>).</summary>
public sealed record ShardReadyQuery
{
    /// <summary>The one instance.</summary>
    public static ShardReadyQuery Instance { get; } = new();
}

/// <summary>A shard holds its weights and KV slice and takes plans.</summary>
public sealed record ShardReady(int Rank, long WeightBytes);
