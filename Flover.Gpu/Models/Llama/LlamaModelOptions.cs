using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models.Llama;

/// <summary>How much memory a <see cref="LlamaModel"/> sets aside at start-up.</summary>
/// <param name="SlotCount">KV slots: sequences in flight at once.</param>
/// <param name="SlotCapacity">Positions per slot; 0 means the model's maximum positions.</param>
/// <param name="MaxRowsPerStep">Rows (tokens) one forward pass runs; longer prefills are split into passes of this many rows, with bitwise the same results.</param>
/// <param name="WeightDType">
/// The precision the weight matrices are held in: null keeps each as the checkpoint stores it; F16
/// or BF16 halve the bytes every decode step reads. Norms and biases stay F32; arithmetic is F32.
/// </param>
public sealed record LlamaModelOptions(int SlotCount, int SlotCapacity = 0, int MaxRowsPerStep = 256, TensorDType? WeightDType = null)
{
    /// <summary>
    /// The precision the KV cache holds keys and values in: F32 (the default), or F16 / BF16, which
    /// halve the pool (each value rounded to nearest even when written, widened exactly when read).
    /// </summary>
    public TensorDType KvDType { get; init; } = TensorDType.F32;

    /// <summary>
    /// The tensor-parallel part this model holds (<see cref="LlamaShardLayout"/>), or null (the
    /// default) for the whole model. Its communicator must see every rank run the same calls.
    /// </summary>
    public TensorShard? Shard { get; init; }
}
