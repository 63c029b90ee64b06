using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Tests.Models;

/// <summary>A model's pool and pass shape, checked the same way for every family, one line per mistake.</summary>
public sealed class ModelShapeCheckTests
{
    [Theory]
    [InlineData(0, 0, 8, "The KV pool needs at least one slot, not 0.")]
    [InlineData(2, 65, 8, "Slot capacity 65 must lie in 1..64 (the model's maximum positions).")]
    [InlineData(2, -1, 8, "Slot capacity -1 must lie in 1..64 (the model's maximum positions).")]
    [InlineData(2, 0, 0, "Rows per step must be positive, not 0.")]
    public void A_bad_pool_or_pass_shape_is_one_line(int slots, int capacity, int rows, string expected)
    {
        Assert.Equal(expected, Assert.Throws<FloverException>(() => RowStager.CheckShape(slots, capacity, 64, rows)).Message);
    }

    [Fact]
    public void Zero_capacity_means_the_model_s_maximum_positions()
    {
        Assert.Equal(64, RowStager.CheckShape(1, 0, 64, 1));
        Assert.Equal(16, RowStager.CheckShape(1, 16, 64, 1));
    }

    [Fact]
    public void Both_families_refuse_a_pool_without_slots_in_the_same_words()
    {
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        using NativeModelWeights gpt2 = TinyGpt2.Weights(TinyGpt2.Config());
        using LlamaWeights llama = LlamaPresets.Create(LlamaPresets.Tiny);

        Assert.Equal("The KV pool needs at least one slot, not 0.", Assert.Throws<FloverException>(() => { using var model = new Gpt2Model(accelerator, gpt2, new Gpt2ModelOptions(0)); }).Message);
        Assert.Equal("The KV pool needs at least one slot, not 0.", Assert.Throws<FloverException>(() => { using var model = new LlamaModel(accelerator, llama, new LlamaModelOptions(0)); }).Message);
    }
}
