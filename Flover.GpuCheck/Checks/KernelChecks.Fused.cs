using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;

namespace Flover.GpuCheck.Checks;

/// <summary>Fused device kernels against the separate kernels they replace: the same bits, element for element.</summary>
internal sealed partial class KernelChecks
{
    /// <summary>
    /// Attention as one launch (<c>AttentionKernels.Fused</c>) and as its three reference kernels, over
    /// every slot of a cache at random positions, with <paramref name="queryHeads"/> query heads on
    /// <paramref name="kvHeads"/> cached ones and one hole row (a slot past the pool, as the fused loop
    /// sends for a freed row). Returns how many output elements differ in any bit (0 expected).
    /// </summary>
    public int FusedAttentionMismatches(int slots, int queryHeads, int kvHeads, int capacity, int headSize, TensorDType kvType)
    {
        var device = accelerator as IlgpuAccelerator ?? throw new InvalidOperationException("The fused-attention check needs an ILGPU accelerator.");
        var layout = new KvCacheLayout(slots, 1, kvHeads, capacity, headSize) { ElementType = kvType };
        KvCache cache = Own(new KvCache(accelerator, layout));
        int rowWidth = (queryHeads + (2 * kvHeads)) * headSize;
        int[] everySlot = [.. Enumerable.Range(0, slots)];
        for (int position = 0; position < capacity; position++)
        {
            cache.WriteGrouped(accelerator, Upload(Values(slots * rowWidth)), slots, queryHeads, Upload(everySlot), Upload(everySlot.Select(_ => position).ToArray()), layer: 0);
        }

        int[] rowSlots = [.. everySlot.OrderBy(_ => _random.Next()), slots];
        int[] rowPositions = [.. rowSlots.Select(_ => _random.Next(capacity))];
        int rows = rowSlots.Length;
        ArrayView<float> queries = Upload(Values(rows * rowWidth, scale: 2f));
        ArrayView<float> fused = Upload(new float[rows * queryHeads * headSize]);
        ArrayView<float> separate = Upload(new float[rows * queryHeads * headSize]);
        try
        {
            cache.AttendGrouped(accelerator, queries, rows, queryHeads, Upload(rowSlots), Upload(rowPositions), layer: 0, fused);
            device.FusedAttention = false;
            cache.AttendGrouped(accelerator, queries, rows, queryHeads, Upload(rowSlots), Upload(rowPositions), layer: 0, separate);
        }
        finally
        {
            device.FusedAttention = true;
        }

        float[] a = Download(fused);
        float[] b = Download(separate);
        return Enumerable.Range(0, a.Length).Count(i => BitConverter.SingleToUInt32Bits(a[i]) != BitConverter.SingleToUInt32Bits(b[i]));
    }
}
