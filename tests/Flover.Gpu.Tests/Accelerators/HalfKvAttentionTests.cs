using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Kernels.Cpu;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>
/// The CPU engine's F16/BF16 KV cache: stores round each key and value as the weights' conversions
/// do, and attention over the bits is bitwise attention over an F32 cache holding the widened values.
/// </summary>
public sealed class HalfKvAttentionTests
{
    [Theory]
    [InlineData(TensorDType.F16, 16, 3, false)]
    [InlineData(TensorDType.F16, 12, 1, false)]
    [InlineData(TensorDType.F16, 16, 2, true)]
    [InlineData(TensorDType.BF16, 16, 2, false)]
    [InlineData(TensorDType.BF16, 7, 4, true)]
    public void Attention_over_a_half_cache_is_bitwise_attention_over_its_widened_values(TensorDType kvDType, int headSize, int threads, bool poisoned)
    {
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(threads)).CreateDefault();
        var shape = new KvCacheLayout(SlotCount: 3, LayerCount: 2, HeadCount: 2, SlotCapacity: 9, HeadSize: headSize);
        using var half = new KvCache(accelerator, shape with { ElementType = kvDType });
        using var single = new KvCache(accelerator, shape);
        var random = new Random(headSize);
        int width = shape.HeadCount * headSize;
        int[] slots = [2, 0];
        int[] positions = [6, 8];
        using MemoryBuffer<int> slotBuffer = Upload(accelerator, slots);
        float[] queries = [];
        for (int position = 0; position <= 8; position++)
        {
            // Values spread over many binades, F16 subnormals included, so every rounding path is taken.
            float[] qkv = [.. Enumerable.Range(0, 2 * 3 * width).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-26, 15))))];
            if (poisoned && position == 3)
            {
                // An F16 overflow in one key of row 0's first head and a NaN in one value of row 1's
                // second head: those heads take the full widening, the others the finite one.
                qkv[width] = 1e6f;
                qkv[(3 * width) + (2 * width) + headSize + 2] = float.NaN;
            }

            queries = qkv;
            using MemoryBuffer<float> rows = Upload(accelerator, qkv);
            using MemoryBuffer<int> at = Upload(accelerator, [position, position]);
            half.Write(accelerator, rows.View, 2, slotBuffer.View, at.View, layer: 1);
        }

        // The F32 cache holds the half cache's values widened with .NET's conversions.
        var bits = new ushort[shape.ElementCount];
        accelerator.CopyToCpu(half.Bits, bits);
        float[] widened = [.. bits.Select(b => kvDType == TensorDType.BF16 ? BFloat16Bits.ToSingle(b) : (float)BitConverter.UInt16BitsToHalf(b))];
        accelerator.CopyFromCpu<float>(widened, single.View);

        // The last rows' queries, kept small so the softmax is not one-hot, over positions 0..6 and 0..8.
        queries = [.. queries.Select(v => float.Clamp(v, -4, 4))];
        using MemoryBuffer<float> query = Upload(accelerator, queries);
        using MemoryBuffer<int> where = Upload(accelerator, positions);
        using MemoryBuffer<float> fromHalf = accelerator.Allocate<float>(2 * width);
        using MemoryBuffer<float> fromSingle = accelerator.Allocate<float>(2 * width);
        half.Attend(accelerator, query.View, 2, slotBuffer.View, where.View, 1, fromHalf.View);
        single.Attend(accelerator, query.View, 2, slotBuffer.View, where.View, 1, fromSingle.View);

        Assert.Equal(Download(accelerator, fromSingle), Download(accelerator, fromHalf));
    }

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Stores_round_each_value_to_nearest_even_as_the_weight_conversions_do(TensorDType kvDType)
    {
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        var layout = new KvCacheLayout(SlotCount: 1, LayerCount: 1, HeadCount: 1, SlotCapacity: 1, HeadSize: 8) { ElementType = kvDType };
        using var cache = new KvCache(accelerator, layout);
        float[] keys = [1f, 1.00048828125f, 1.0009765625f + 0.00048828125f, 65520f, -70000f, 1e-8f, 6.1e-5f, float.NegativeInfinity];
        float[] values = [.. keys.Select(k => -k * 3.3f)];
        float[] qkv = [.. new float[8], .. keys, .. values];
        using MemoryBuffer<float> rows = Upload(accelerator, qkv);
        using MemoryBuffer<int> zero = Upload(accelerator, [0]);

        cache.Write(accelerator, rows.View, 1, zero.View, zero.View, layer: 0);

        var stored = new ushort[16];
        accelerator.CopyToCpu(cache.Bits, stored);
        Func<float, ushort> round = kvDType == TensorDType.BF16 ? BFloat16Bits.FromSingle : HalfWidening.NarrowToF16;
        Assert.Equal([.. keys.Select(round), .. values.Select(round)], stored);
    }

    internal static MemoryBuffer<T> Upload<T>(Accelerator accelerator, T[] values)
        where T : unmanaged
    {
        MemoryBuffer<T> buffer = accelerator.Allocate<T>(values.Length);
        accelerator.CopyFromCpu<T>(values, buffer.View);
        return buffer;
    }

    internal static float[] Download(Accelerator accelerator, MemoryBuffer<float> buffer)
    {
        var values = new float[buffer.View.Length];
        accelerator.CopyToCpu(buffer.View, values);
        return values;
    }
}
