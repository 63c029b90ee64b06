using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Kernels.Cpu;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>
/// Grouped-query attention (LLaMA's) over an F16/BF16 KV cache: rows <c>[q: queryHeads | k | v]</c> store
/// their key/value heads rounded to nearest even, and attention over the bits is bitwise attention over
/// an F32 cache holding the widened values.
/// </summary>
public sealed class HalfKvGroupedAttentionTests
{
    [Theory]
    [InlineData(TensorDType.F16, 4, 2, 16, 2)]
    [InlineData(TensorDType.BF16, 4, 2, 12, 1)]
    [InlineData(TensorDType.F16, 3, 1, 7, 3)]
    [InlineData(TensorDType.BF16, 6, 2, 16, 2)]
    public void Grouped_attention_over_a_half_cache_is_bitwise_attention_over_its_widened_values(TensorDType kvDType, int queryHeads, int kvHeads, int headSize, int threads)
    {
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(threads)).CreateDefault();
        var shape = new KvCacheLayout(SlotCount: 3, LayerCount: 2, HeadCount: kvHeads, SlotCapacity: 9, HeadSize: headSize);
        using var half = new KvCache(accelerator, shape with { ElementType = kvDType });
        using var single = new KvCache(accelerator, shape);
        var random = new Random(headSize * queryHeads);
        int rowWidth = (queryHeads + (2 * kvHeads)) * headSize;
        using MemoryBuffer<int> slots = Upload(accelerator, [2, 0]);
        float[] last = [];
        for (int position = 0; position <= 8; position++)
        {
            float[] qkv = [.. Enumerable.Range(0, 2 * rowWidth).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-26, 15))))];
            last = qkv;
            using MemoryBuffer<float> rows = Upload(accelerator, qkv);
            using MemoryBuffer<int> at = Upload(accelerator, [position, position]);
            half.WriteGrouped(accelerator, rows.View, 2, queryHeads, slots.View, at.View, layer: 1);
            if (position == 8)
            {
                // Each stored key and value is its own rounding: the row layout puts k after the queryHeads query heads.
                var bits = new ushort[shape.ElementCount];
                accelerator.CopyToCpu(half.Bits, bits);
                Func<float, ushort> round = kvDType == TensorDType.BF16 ? BFloat16Bits.FromSingle : HalfWidening.NarrowToF16;
                int key = queryHeads * headSize;
                Assert.Equal(qkv[key..(key + headSize)].Select(round), bits.AsSpan((int)shape.Offset(2, 1, 0, 0, 8), headSize).ToArray());
                int value = key + (kvHeads * headSize) + ((kvHeads - 1) * headSize);
                Assert.Equal(qkv[value..(value + headSize)].Select(round), bits.AsSpan((int)shape.Offset(2, 1, 1, kvHeads - 1, 8), headSize).ToArray());
            }
        }

        var stored = new ushort[shape.ElementCount];
        accelerator.CopyToCpu(half.Bits, stored);
        float[] widened = [.. stored.Select(b => kvDType == TensorDType.BF16 ? BFloat16Bits.ToSingle(b) : (float)BitConverter.UInt16BitsToHalf(b))];
        accelerator.CopyFromCpu<float>(widened, single.View);

        float[] queries = [.. last.Select(v => float.Clamp(v, -4, 4))];
        using MemoryBuffer<float> query = Upload(accelerator, queries);
        using MemoryBuffer<int> where = Upload(accelerator, [6, 8]);
        using MemoryBuffer<float> fromHalf = accelerator.Allocate<float>(2 * queryHeads * headSize);
        using MemoryBuffer<float> fromSingle = accelerator.Allocate<float>(2 * queryHeads * headSize);
        half.AttendGrouped(accelerator, query.View, 2, queryHeads, slots.View, where.View, 1, fromHalf.View);
        single.AttendGrouped(accelerator, query.View, 2, queryHeads, slots.View, where.View, 1, fromSingle.View);

        Assert.Equal(Download(accelerator, fromSingle), Download(accelerator, fromHalf));
        Assert.Contains(Download(accelerator, fromHalf), v => v != 0);
    }

    [Fact]
    public void A_float_view_of_a_half_cache_is_refused_naming_the_element_type()
    {
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        var layout = new KvCacheLayout(SlotCount: 1, LayerCount: 1, HeadCount: 1, SlotCapacity: 2, HeadSize: 4) { ElementType = TensorDType.F16 };
        using MemoryBuffer<float> floats = accelerator.Allocate<float>(layout.ElementCount);
        using MemoryBuffer<float> qkv = accelerator.Allocate<float>(12);
        using MemoryBuffer<int> zero = Upload(accelerator, [0]);

        var error = Assert.Throws<ArgumentException>(() => accelerator.WriteGroupedKv(qkv.View, 1, 2, zero.View, zero.View, floats.View, layout, 0));

        Assert.StartsWith("A KV cache of F16 elements is a view of ushort bits, not Single.", error.Message, StringComparison.Ordinal);
    }

    private static MemoryBuffer<T> Upload<T>(Accelerator accelerator, T[] values)
        where T : unmanaged => HalfKvAttentionTests.Upload(accelerator, values);

    private static float[] Download(Accelerator accelerator, MemoryBuffer<float> buffer) => HalfKvAttentionTests.Download(accelerator, buffer);
}
