using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Memory;

/// <summary>
/// The shape of the KV cache: a pool of slots, slot-major, <c>[slot][layer][k|v][head][position][dim]</c>,
/// so one sequence's whole cache is one contiguous block (moving a sequence is one copy) and a head's
/// keys for consecutive positions are contiguous (attention streams them). Strides and offsets count
/// elements of <see cref="ElementType"/>.
/// </summary>
/// <param name="SlotCount">Sequences the pool holds at once.</param>
/// <param name="LayerCount">Transformer blocks.</param>
/// <param name="HeadCount">Attention heads per block.</param>
/// <param name="SlotCapacity">Positions one slot holds (at most the model's maximum positions).</param>
/// <param name="HeadSize">Width of one head.</param>
public readonly record struct KvCacheLayout(int SlotCount, int LayerCount, int HeadCount, int SlotCapacity, int HeadSize)
{
    /// <summary>
    /// How keys and values are stored: F32 (the default), or F16/BF16 rounded to nearest even when
    /// written and widened exactly when read, halving the pool. Arithmetic is F32 either way.
    /// </summary>
    public TensorDType ElementType { get; init; }

    /// <summary>Bytes of one element of <see cref="ElementType"/>.</summary>
    public int ElementSize => ElementType.ByteSize();

    /// <summary>Bytes of the whole pool.</summary>
    public long ByteCount => ElementCount * ElementSize;

    /// <summary>Elements between consecutive heads.</summary>
    public long HeadStride => (long)SlotCapacity * HeadSize;

    /// <summary>Elements between a layer's keys and its values.</summary>
    public long KvStride => HeadCount * HeadStride;

    /// <summary>Elements between consecutive layers of a slot.</summary>
    public long LayerStride => 2 * KvStride;

    /// <summary>Elements of one slot (all layers, keys and values).</summary>
    public long SlotStride => LayerCount * LayerStride;

    /// <summary>Elements of the whole pool.</summary>
    public long ElementCount => SlotCount * SlotStride;

    /// <summary>Index of the first element of the key (<paramref name="kv"/> 0) or value (1) vector of one head at one position.</summary>
    public long Offset(int slot, int layer, int kv, int head, int position) =>
        (slot * SlotStride) + (layer * LayerStride) + (kv * KvStride) + (head * HeadStride) + ((long)position * HeadSize);

    /// <summary>Checks every dimension is positive and the element type is one the pool can hold.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is zero or negative, or the element type is unknown.</exception>
    public void Validate()
    {
        if (ElementType is not (TensorDType.F32 or TensorDType.F16 or TensorDType.BF16))
        {
            throw new ArgumentOutOfRangeException(nameof(ElementType), ElementType, "The KV cache holds F32, F16 or BF16.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(SlotCount, nameof(SlotCount));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LayerCount, nameof(LayerCount));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(HeadCount, nameof(HeadCount));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(SlotCapacity, nameof(SlotCapacity));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(HeadSize, nameof(HeadSize));
    }
}
