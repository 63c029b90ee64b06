using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models.Gpt2;

/// <summary>How much memory a <see cref="Gpt2Model"/> sets aside at start-up.</summary>
/// <param name="SlotCount">KV slots: sequences in flight at once.</param>
/// <param name="SlotCapacity">Positions per slot; 0 means the model's maximum positions.</param>
/// <param name="MaxRowsPerStep">Rows (tokens) one forward pass runs; longer prefills are split into passes of this many rows, with bitwise the same results.</param>
/// <param name="WeightDType">
/// The precision the weight matrices (and the LM head) are held in: null keeps each as the checkpoint
/// stores it; F16 or BF16 halve the bytes every decode step reads (rounding F32 weights to nearest).
/// Vectors (biases, norms, position embeddings) stay F32. Arithmetic is F32 whatever the choice.
/// </param>
/// <param name="Shard">
/// The tensor-parallel shard this model holds, or null for the whole model. Every shard of a group
/// must be called with the same inputs in the same order (their collectives meet); the engine's
/// shard actors do that (each executes the decode loop's step).
/// </param>
public sealed record Gpt2ModelOptions(int SlotCount, int SlotCapacity = 0, int MaxRowsPerStep = 256, TensorDType? WeightDType = null, TensorShard? Shard = null)
{
    /// <summary>
    /// The precision the KV cache holds keys and values in: F32 (the default), or F16/BF16, which
    /// halve the pool; each key and value is rounded to nearest even when written and widened exactly
    /// when read, so batch invariance holds as with F32. Attention arithmetic is F32 whatever the choice.
    /// </summary>
    public TensorDType KvDType { get; init; } = TensorDType.F32;
}
