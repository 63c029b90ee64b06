using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Memory;

/// <summary>
/// The KV cache: one device buffer shaped by a <see cref="KvCacheLayout"/>. On the CPU (Linux) the
/// pool is allocated on demand, so memory follows the positions actually written rather than the
/// configured pool: a slot's pages are committed as its sequence writes them and handed back by
/// <see cref="Release"/> when the sequence leaves. On a GPU the pool is device memory reserved whole.
/// Elements are F32 (<see cref="View"/>) or F16/BF16 bits (<see cref="Bits"/>), as the layout's
/// <see cref="KvCacheLayout.ElementType"/> says.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly MemoryBuffer<float>? _single;
    private readonly MemoryBuffer<ushort>? _bits;

    /// <summary>Allocates the pool on <paramref name="accelerator"/>.</summary>
    public KvCache(Accelerator accelerator, KvCacheLayout layout)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        layout.Validate();
        _accelerator = accelerator;
        Layout = layout;
        if (layout.ElementType == TensorDType.F32)
        {
            _single = accelerator.AllocateOnDemand<float>(layout.ElementCount);
        }
        else
        {
            _bits = accelerator.AllocateOnDemand<ushort>(layout.ElementCount);
        }
    }

    /// <summary>The pool's shape.</summary>
    public KvCacheLayout Layout { get; }

    /// <summary>The whole pool of an F32 cache, for the attention kernels.</summary>
    /// <exception cref="InvalidOperationException">The cache holds F16 or BF16 (<see cref="Bits"/>).</exception>
    public ArrayView<float> View => _single?.View ?? throw new InvalidOperationException($"The KV cache holds {Layout.ElementType}; use Bits.");

    /// <summary>The whole pool of an F16 or BF16 cache as element bits, for the attention kernels.</summary>
    /// <exception cref="InvalidOperationException">The cache holds F32 (<see cref="View"/>).</exception>
    public ArrayView<ushort> Bits => _bits?.View ?? throw new InvalidOperationException("The KV cache holds F32; use View.");

    /// <summary>Bytes of the whole pool (what start-up checks against the memory available).</summary>
    public long ByteSize => Layout.ByteCount;

    /// <summary>Bytes of the pool held in memory now (on the CPU, the pages written and not released; on a GPU, <see cref="ByteSize"/>).</summary>
    public long ResidentBytes => _single is not null ? _accelerator.ResidentBytes(_single) : _accelerator.ResidentBytes(_bits!);

    /// <summary>Stores the keys and values of fused QKV rows at their slots and positions of <paramref name="layer"/> (<see cref="Accelerator.WriteKv(ArrayView{float}, int, ArrayView{int}, ArrayView{int}, ArrayView{float}, KvCacheLayout, int)"/>), rounding them to the cache's element type.</summary>
    public void Write(Accelerator accelerator, ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, int layer)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (_single is not null)
        {
            accelerator.WriteKv(qkv, rows, slots, positions, _single.View, Layout, layer);
        }
        else
        {
            accelerator.WriteKv(qkv, rows, slots, positions, _bits!.View, Layout, layer);
        }
    }

    /// <summary>Causal attention of fused QKV rows over their slots at <paramref name="layer"/> (<see cref="Accelerator.Attention(ArrayView{float}, int, ArrayView{int}, ArrayView{int}, ArrayView{float}, KvCacheLayout, int, ArrayView{float})"/>), reading keys and values widened exactly to F32.</summary>
    public void Attend(Accelerator accelerator, ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, int layer, ArrayView<float> output)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (_single is not null)
        {
            accelerator.Attention(qkv, rows, slots, positions, _single.View, Layout, layer, output);
        }
        else
        {
            accelerator.Attention(qkv, rows, slots, positions, _bits!.View, Layout, layer, output);
        }
    }

    /// <summary>
    /// Stores the keys and values of grouped-query rows <c>[q: queryHeads | k | v]</c> (the cache's
    /// heads are the key/value heads) at their slots and positions of <paramref name="layer"/>,
    /// rounding them to the cache's element type.
    /// </summary>
    public void WriteGrouped(Accelerator accelerator, ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, int layer)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (_single is not null)
        {
            accelerator.WriteGroupedKv(qkv, rows, queryHeads, slots, positions, _single.View, Layout, layer);
        }
        else
        {
            accelerator.WriteGroupedKv(qkv, rows, queryHeads, slots, positions, _bits!.View, Layout, layer);
        }
    }

    /// <summary>Causal grouped-query attention of <paramref name="queryHeads"/> query heads over their slots at <paramref name="layer"/>, keys and values widened exactly to F32.</summary>
    public void AttendGrouped(Accelerator accelerator, ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, int layer, ArrayView<float> output)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (_single is not null)
        {
            accelerator.GroupedAttention(qkv, rows, queryHeads, slots, positions, _single.View, Layout, layer, output);
        }
        else
        {
            accelerator.GroupedAttention(qkv, rows, queryHeads, slots, positions, _bits!.View, Layout, layer, output);
        }
    }

    /// <summary>
    /// The sequence in <paramref name="slot"/> has left: the slot's memory goes back to the system
    /// where the pool was allocated on demand. Its contents are undefined afterwards; the next
    /// sequence writes every position before reading it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The slot is out of range.</exception>
    public void Release(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)slot, (uint)Layout.SlotCount, nameof(slot));
        if (_single is not null)
        {
            _accelerator.Decommit(_single.View.SubView(slot * Layout.SlotStride, Layout.SlotStride));
        }
        else
        {
            _accelerator.Decommit(_bits!.View.SubView(slot * Layout.SlotStride, Layout.SlotStride));
        }
    }

    /// <summary>
    /// Copies positions [0, <paramref name="length"/>) of every layer and head of <paramref name="fromSlot"/>
    /// into <paramref name="toSlot"/>: one contiguous copy for a full slot, one per (layer, k|v, head) otherwise.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A slot or the length is out of range.</exception>
    public void CopySlot(int fromSlot, int toSlot, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)fromSlot, (uint)Layout.SlotCount, nameof(fromSlot));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)toSlot, (uint)Layout.SlotCount, nameof(toSlot));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)length, (uint)Layout.SlotCapacity, nameof(length));
        if (fromSlot == toSlot || length == 0)
        {
            return;
        }

        if (_single is not null)
        {
            CopySlot(_single.View, fromSlot, toSlot, length);
        }
        else
        {
            CopySlot(_bits!.View, fromSlot, toSlot, length);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _single?.Dispose();
        _bits?.Dispose();
    }

    private void CopySlot<T>(ArrayView<T> pool, int fromSlot, int toSlot, int length)
        where T : unmanaged
    {
        if (length == Layout.SlotCapacity)
        {
            _accelerator.Copy(pool.SubView(fromSlot * Layout.SlotStride, Layout.SlotStride), pool.SubView(toSlot * Layout.SlotStride, Layout.SlotStride));
            return;
        }

        long count = (long)length * Layout.HeadSize;
        for (int layer = 0; layer < Layout.LayerCount; layer++)
        {
            for (int kv = 0; kv < 2; kv++)
            {
                for (int head = 0; head < Layout.HeadCount; head++)
                {
                    _accelerator.Copy(
                        pool.SubView(Layout.Offset(fromSlot, layer, kv, head, 0), count),
                        pool.SubView(Layout.Offset(toSlot, layer, kv, head, 0), count));
                }
            }
        }
    }
}
