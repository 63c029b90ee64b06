using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Tests.Models.Llama;

/// <summary>What a LLaMA model will hold, known before it loads: the checks that keep a model too big for the memory to one line.</summary>
public sealed class LlamaMemoryPlanTests
{
    [Theory]
    [InlineData(TensorDType.F32, TensorDType.F32)]
    [InlineData(TensorDType.BF16, TensorDType.F16)]
    public void The_estimate_is_what_the_loaded_model_holds(TensorDType weightDType, TensorDType kvDType)
    {
        using LlamaWeights weights = LlamaCheckpoint.Load(LlamaReferenceCase.FolderOf("llama-mqa-tied-linear"));
        var options = new LlamaModelOptions(SlotCount: 3, SlotCapacity: 40, WeightDType: weightDType) { KvDType = kvDType };

        (long weightBytes, long kvBytes, long workspace) = DeviceMemoryPlan.Estimate(weights, options);
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        using var model = new LlamaModel(accelerator, weights, options);

        Assert.Equal(model.KvCacheBytes, kvBytes);
        // The CPU packs each (fused) matrix in panels of 64 outputs, the last one zero-padded: that
        // padding, and nothing else, is what the model holds beyond the estimate.
        LlamaConfig c = weights.Config;
        long Padding(long outputs, long inputs) => ((((outputs + 63) / 64) * 64) - outputs) * inputs * weightDType.ByteSize();
        long perLayer = Padding(c.QkvSize, c.HiddenSize) + Padding(c.HiddenSize, (long)c.HeadCount * c.HeadSize) + Padding(2L * c.IntermediateSize, c.HiddenSize) + Padding(c.HiddenSize, c.IntermediateSize);
        long padding = (c.LayerCount * perLayer) + Padding(c.VocabularySize, c.HiddenSize);
        Assert.True(c.TieWordEmbeddings); // the head is the embedding, held (and padded) once
        Assert.Equal(weightBytes + padding, model.WeightBytes);
        Assert.True(workspace > 0);
    }

    [Fact]
    public void A_model_that_does_not_fit_is_one_line_naming_each_part_and_what_to_lower()
    {
        using LlamaWeights weights = LlamaPresets.Create(LlamaPresets.Tiny);
        var options = new LlamaModelOptions(SlotCount: 1000, SlotCapacity: 256);
        (long Weights, long Kv, long Workspace) estimate = DeviceMemoryPlan.Estimate(weights, options);

        var error = Assert.Throws<FloverException>(() => HostMemoryPlan.Check(estimate, options.SlotCount, available: 64L << 20));

        Assert.StartsWith($"the model does not fit in memory: weights {estimate.Weights / (1024.0 * 1024):N0} MiB + KV pool {estimate.Kv / (1024.0 * 1024):N0} MiB (1000 slots; flover.engine.kv-slots)", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("64 MiB available. Lower flover.engine.kv-slots or flover.engine.max-positions, or use 16-bit weights (flover.engine.weight-dtype) or a 16-bit KV cache (flover.engine.kv-dtype).", error.Message, StringComparison.Ordinal);
        Assert.Equal(1000 * 2L * 2 * 2 * 256 * 16 * sizeof(float), estimate.Kv);
    }
}
