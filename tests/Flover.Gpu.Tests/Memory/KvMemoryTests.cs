using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Tests.Models;

namespace Flover.Gpu.Tests.Memory;

/// <summary>
/// The CPU KV pool's memory follows the positions written (Linux: pages committed on first write,
/// handed back when a slot is released); elsewhere the pool is held whole. Residency is read from the
/// kernel (mincore), page by page, so the expected figures are exact, for every KV element type
/// (F32, and the F16/BF16 pools of half the bytes).
/// </summary>
public sealed class KvMemoryTests
{
    private static readonly long Page = Environment.SystemPageSize;

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void The_pool_holds_only_the_pages_written_and_a_released_slot_holds_none(TensorDType elementType)
    {
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        // Every (layer, k|v, head) run of a slot is 1024 positions x 64 elements = 256 or 128 KiB, whole pages.
        var layout = new KvCacheLayout(SlotCount: 4, LayerCount: 2, HeadCount: 2, SlotCapacity: 1024, HeadSize: 64) { ElementType = elementType };
        using var cache = new KvCache(accelerator, layout);
        int bytesPerPosition = 64 * elementType.ByteSize();
        Assert.Equal(layout.ElementCount * elementType.ByteSize(), cache.ByteSize);
        if (!OperatingSystem.IsLinux())
        {
            Assert.Equal(cache.ByteSize, cache.ResidentBytes);
            return;
        }

        Assert.Equal(0, cache.ResidentBytes);
        WritePositions(accelerator, cache, slot: 1, positions: 40);
        WritePositions(accelerator, cache, slot: 3, positions: 1);

        // 8 runs per slot; 40 positions x 256 bytes = 10 KiB = 3 pages of each run (F32; 5 KiB = 2 pages
        // of 16-bit elements), 1 position = 1 page.
        Assert.Equal(8 * (PagesFor(40 * bytesPerPosition) + PagesFor(bytesPerPosition)) * Page, cache.ResidentBytes);
        cache.Release(1);
        Assert.Equal(8 * PagesFor(bytesPerPosition) * Page, cache.ResidentBytes);
        cache.Release(3);
        Assert.Equal(0, cache.ResidentBytes);
    }

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void A_model_s_kv_memory_grows_with_the_tokens_held_returns_on_release_and_a_reused_slot_computes_the_same_logits(TensorDType kvType)
    {
        // Head size 64 and 1024 positions: each (layer, k|v, head) run of a slot is whole pages.
        Gpt2Config config = TinyGpt2.Config(embedding: 256, heads: 4, layers: 2, positions: 1024);
        using var harness = new ModelHarness(TinyGpt2.Weights(config), slots: 4, capacity: 1024, kvDType: kvType);
        Gpt2Model model = harness.Model;
        int runs = config.LayerCount * 2 * config.HeadCount;
        int bytesPerPosition = config.HeadSize * kvType.ByteSize();
        Assert.Equal(4 * config.KvBytesPerSlot(1024, kvType), model.KvCacheBytes);
        int[] prompt = [.. Enumerable.Range(1, 100)];
        if (!OperatingSystem.IsLinux())
        {
            Assert.Equal(model.KvCacheBytes, model.KvResidentBytes);
            return;
        }

        Assert.Equal(0, model.KvResidentBytes);
        float[][] first = harness.PrefillAll(2, prompt[..20]);
        Assert.Equal(runs * PagesFor(20 * bytesPerPosition) * Page, model.KvResidentBytes);
        harness.PrefillAll(2, prompt[20..], start: 20);
        Assert.Equal(runs * PagesFor(100 * bytesPerPosition) * Page, model.KvResidentBytes);
        harness.PrefillAll(0, prompt[..1]);
        Assert.Equal(runs * (PagesFor(100 * bytesPerPosition) + PagesFor(bytesPerPosition)) * Page, model.KvResidentBytes);

        model.Release(2);
        Assert.Equal(runs * PagesFor(bytesPerPosition) * Page, model.KvResidentBytes);
        float[][] again = harness.PrefillAll(2, prompt[..20]);
        Assert.Equal(first, again);
        model.Release(2);
        model.Release(0);
        Assert.Equal(0, model.KvResidentBytes);
    }

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void A_16_bit_kv_cache_is_half_the_pool_and_half_the_resident_pages_of_f32(TensorDType kvType)
    {
        Gpt2Config config = TinyGpt2.Config(embedding: 256, heads: 4, layers: 2, positions: 1024);
        using NativeModelWeights weights = TinyGpt2.Weights(config);
        using var full = new ModelHarness(weights, slots: 4, capacity: 1024);
        using var half = new ModelHarness(weights, slots: 4, capacity: 1024, kvDType: kvType);
        // 128 positions x 64 dims: 32 KiB of F32 per run, 16 KiB of halves; whole pages either way.
        int[] prompt = [.. Enumerable.Range(1, 128)];
        full.PrefillAll(1, prompt);
        half.PrefillAll(1, prompt);

        Assert.Equal(kvType, half.Model.KvDType);
        Assert.Equal(full.Model.KvCacheBytes, 2 * half.Model.KvCacheBytes);
        Assert.Equal(full.Model.KvBytesPerSlot, 2 * half.Model.KvBytesPerSlot);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(config.LayerCount * 2 * config.HeadCount * PagesFor(128 * 64 * 2) * Page, half.Model.KvResidentBytes);
            Assert.Equal(full.Model.KvResidentBytes, 2 * half.Model.KvResidentBytes);
        }
    }

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void The_start_up_memory_plan_counts_the_kv_pool_in_its_element_size(TensorDType kvType)
    {
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config());
        var f32 = new Gpt2ModelOptions(SlotCount: 8, SlotCapacity: 64);

        long full = DeviceMemoryPlan.Estimate(weights, f32).Kv;
        long half = DeviceMemoryPlan.Estimate(weights, f32 with { KvDType = kvType }).Kv;

        Assert.Equal(8 * weights.Config.KvBytesPerSlot(64), full);
        Assert.Equal(full, 2 * half);
    }

    private static long PagesFor(long bytes) => (bytes + Page - 1) / Page;

    private static void WritePositions(Accelerator accelerator, KvCache cache, int slot, int positions)
    {
        KvCacheLayout layout = cache.Layout;
        float[] values = [.. Enumerable.Repeat(1f, positions * layout.HeadSize)];
        ushort[] bits = [.. Enumerable.Repeat((ushort)0x3C00, positions * layout.HeadSize)];
        for (int layer = 0; layer < layout.LayerCount; layer++)
        {
            for (int kv = 0; kv < 2; kv++)
            {
                for (int head = 0; head < layout.HeadCount; head++)
                {
                    long offset = layout.Offset(slot, layer, kv, head, 0);
                    if (layout.ElementType == TensorDType.F32)
                    {
                        accelerator.CopyFromCpu<float>(values, cache.View.SubView(offset, values.Length));
                    }
                    else
                    {
                        accelerator.CopyFromCpu<ushort>(bits, cache.Bits.SubView(offset, bits.Length));
                    }
                }
            }
        }
    }
}
