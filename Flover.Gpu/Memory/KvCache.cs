using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Memory;

/// <summary>
/// The KV cache: one device buffer shaped by a <see cref="KvCacheLayout"/>. On the CPU (Linux) the
/// pool is allocated on demand, so memory follows the positions actually written rather than the
/// configured pool: a slot's pages are committed as its sequence writes them and handed back by
/// <see cref="Release"/> when the sequence leaves. On a GPU the pool is device memory reserved whole.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly MemoryBuffer<float> _buffer;

    /// <summary>Allocates the pool on <paramref name="accelerator"/>.</summary>
    public KvCache(Accelerator accelerator, KvCacheLayout layout)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        layout.Validate();
        _accelerator = accelerator;
        Layout = layout;
        _buffer = accelerator.AllocateOnDemand<float>(layout.ElementCount);
    }

    /// <summary>The pool's shape.</summary>
    public KvCacheLayout Layout { get; }

    /// <summary>The whole pool, for the attention kernels.</summary>
    public ArrayView<float> View => _buffer.View;

    /// <summary>Bytes of the whole pool (what start-up checks against the memory available).</summary>
    public long ByteSize => Layout.ElementCount * sizeof(float);

    /// <summary>Bytes of the pool held in memory now (on the CPU, the pages written and not released; on a GPU, <see cref="ByteSize"/>).</summary>
    public long ResidentBytes => _accelerator.ResidentBytes(_buffer);

    /// <summary>
    /// The sequence in <paramref name="slot"/> has left: the slot's memory goes back to the system
    /// where the pool was allocated on demand. Its contents are undefined afterwards; the next
    /// sequence writes every position before reading it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The slot is out of range.</exception>
    public void Release(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)slot, (uint)Layout.SlotCount, nameof(slot));
        _accelerator.Decommit(View.SubView(slot * Layout.SlotStride, Layout.SlotStride));
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

        if (length == Layout.SlotCapacity)
        {
            _accelerator.Copy(View.SubView(fromSlot * Layout.SlotStride, Layout.SlotStride), View.SubView(toSlot * Layout.SlotStride, Layout.SlotStride));
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
                        View.SubView(Layout.Offset(fromSlot, layer, kv, head, 0), count),
                        View.SubView(Layout.Offset(toSlot, layer, kv, head, 0), count));
                }
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _buffer.Dispose();
}
