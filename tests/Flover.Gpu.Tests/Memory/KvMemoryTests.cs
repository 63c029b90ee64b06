using Flover.Gpu.Accelerators;
using Flover.Gpu.Memory;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Tests.Models;

namespace Flover.Gpu.Tests.Memory;

/// <summary>
/// The CPU KV pool's memory follows the positions written (Linux: pages committed on first write,
/// handed back when a slot is released); elsewhere the pool is held whole. Residency is read from the
/// kernel (mincore), page by page, so the expected figures are exact.
/// </summary>
public sealed class KvMemoryTests
{
    private static readonly long Page = Environment.SystemPageSize;

    [Fact]
    public void The_pool_holds_only_the_pages_written_and_a_released_slot_holds_none()
    {
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        // Every (layer, k|v, head) run of a slot is 1024 positions x 64 floats = 256 KiB, whole pages.
        var layout = new KvCacheLayout(SlotCount: 4, LayerCount: 2, HeadCount: 2, SlotCapacity: 1024, HeadSize: 64);
        using var cache = new KvCache(accelerator, layout);
        if (!OperatingSystem.IsLinux())
        {
            Assert.Equal(cache.ByteSize, cache.ResidentBytes);
            return;
        }

        Assert.Equal(0, cache.ResidentBytes);
        WritePositions(accelerator, cache, slot: 1, positions: 40);
        WritePositions(accelerator, cache, slot: 3, positions: 1);

        // 8 runs per slot; 40 positions x 256 bytes = 10 KiB = 3 pages of each run, 1 position = 1 page.
        Assert.Equal(8 * (PagesFor(40 * 256) + PagesFor(256)) * Page, cache.ResidentBytes);
        cache.Release(1);
        Assert.Equal(8 * PagesFor(256) * Page, cache.ResidentBytes);
        cache.Release(3);
        Assert.Equal(0, cache.ResidentBytes);
    }

    [Fact]
    public void A_model_s_kv_memory_grows_with_the_tokens_held_returns_on_release_and_a_reused_slot_computes_the_same_logits()
    {
        // Head size 64 and 1024 positions: each (layer, k|v, head) run of a slot is whole pages.
        Gpt2Config config = TinyGpt2.Config(embedding: 256, heads: 4, layers: 2, positions: 1024);
        using var harness = new ModelHarness(TinyGpt2.Weights(config), slots: 4, capacity: 1024);
        Gpt2Model model = harness.Model;
        int runs = config.LayerCount * 2 * config.HeadCount;
        int bytesPerPosition = config.HeadSize * sizeof(float);
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

    private static long PagesFor(long bytes) => (bytes + Page - 1) / Page;

    private static void WritePositions(Accelerator accelerator, KvCache cache, int slot, int positions)
    {
        KvCacheLayout layout = cache.Layout;
        float[] values = [.. Enumerable.Repeat(1f, positions * layout.HeadSize)];
        for (int layer = 0; layer < layout.LayerCount; layer++)
        {
            for (int kv = 0; kv < 2; kv++)
            {
                for (int head = 0; head < layout.HeadCount; head++)
                {
                    accelerator.CopyFromCpu<float>(values, cache.View.SubView(layout.Offset(slot, layer, kv, head, 0), values.Length));
                }
            }
        }
    }
}
