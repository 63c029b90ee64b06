using Akka.Actor;
using Flover.Gpu.Collectives;
using Flover.Gpu.Models;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// Decode loop → every shard: execute this step (KV copies, prefill, decode) identically; shards
/// never decide anything on their own.
/// </summary>
/// <param name="Step">Sequence number; replies carry it so a late reply from an abandoned step is recognised.</param>
/// <param name="Work">What to compute.</param>
public sealed record ShardStep(long Step, ModelStep Work);

/// <summary>
/// A shard finished a step. Rank 0 carries the gathered logits (in process: references to its
/// buffers, valid until its next step; across nodes the rows would be sent) and its compute time.
/// </summary>
/// <param name="Step">The step.</param>
/// <param name="Rank">The shard.</param>
/// <param name="Result">Rank 0's logits; null from the other ranks.</param>
/// <param name="ComputeTime">Time the shard spent executing the step (KV copies included).</param>
/// <param name="CopyTime">Of which KV copies (the memory shuffle).</param>
public sealed record ShardStepDone(long Step, int Rank, ModelStepResult? Result, TimeSpan ComputeTime, TimeSpan CopyTime);

/// <summary>A shard's step failed (its group was aborted first, so no other shard waits for it).</summary>
/// <param name="Step">The step.</param>
/// <param name="Rank">The shard.</param>
/// <param name="Error">Its own error, or that it was aborted.</param>
/// <param name="Aborted">Whether its collectives failed because of another rank (or an abort), not through an error of its own.</param>
public sealed record ShardStepFailed(long Step, int Rank, string Error, bool Aborted)
{
    /// <summary>
    /// The rank whose connection dropped while this shard waited in a collective (across nodes: its
    /// process died or its node was lost, or it aborted after an error of its own); null when unknown.
    /// The decode loop asks that rank's node last when it places the group again.
    /// </summary>
    public int? LostRank { get; init; }
}

/// <summary>
/// A shard's accelerator reported a device fault in a step (<see cref="Gpu.DeviceFaultException"/>):
/// its context is poisoned, so the shard has already disposed its model and accelerator and takes
/// no more steps; it must be replaced, which creates both again through the model factory. Its
/// group was aborted first, so no other shard waits for it.
/// </summary>
/// <param name="Step">The step.</param>
/// <param name="Rank">The shard.</param>
/// <param name="Error">What the device reported, one line.</param>
public sealed record ShardDeviceFault(long Step, int Rank, string Error);

/// <summary>Asks a shard whether it has loaded its model (answered with <see cref="ShardReady"/>).</summary>
public sealed record ShardReadyQuery
{
    /// <summary>The one instance.</summary>
    public static ShardReadyQuery Instance { get; } = new();
}

/// <summary>A shard holds its model and takes steps.</summary>
/// <param name="Rank">The shard.</param>
/// <param name="WeightBytes">Bytes of weights its model holds (0 when the model does not say).</param>
/// <param name="WeightDType">The precision its weight matrices are held in (null when the model does not say).</param>
public sealed record ShardReady(int Rank, long WeightBytes = 0, Gpu.Checkpoints.TensorDType? WeightDType = null);

/// <summary>Decode loop → surviving shards after a failed step: meet the other ranks in this fresh group from now on.</summary>
internal sealed record UseGroup(ICommunicatorGroup Group) : INoSerializationVerificationNeeded;
