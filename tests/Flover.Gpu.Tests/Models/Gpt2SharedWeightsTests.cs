using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;

namespace Flover.Gpu.Tests.Models;

public sealed class Gpt2SharedWeightsTests
{
    private static readonly int[] s_prompt = [5, 17, 299, 42];

    [Fact]
    public void Two_instances_on_their_own_accelerators_share_one_upload_and_match_a_model_owning_its_weights()
    {
        using IModelWeights weights = Gpt2Presets.Create(Gpt2Presets.Tiny);
        var context = new AcceleratorContext(new EngineOptions(1));
        using Accelerator home = context.CreateDefault();
        using Accelerator first = context.CreateDefault();
        using Accelerator second = context.CreateDefault();
        using var shared = new Gpt2SharedWeights(home, weights);
        using var owning = new Gpt2Model(home, weights, new Gpt2ModelOptions(1, 16));
        using var a = new Gpt2Model(first, shared, new Gpt2ModelOptions(1, 16));
        using var b = new Gpt2Model(second, shared, new Gpt2ModelOptions(2, 16));

        float[] expected = owning.Prefill([new PrefillPrompt(0, s_prompt)]).Row(0).ToArray();

        Assert.Equal(expected, a.Prefill([new PrefillPrompt(0, s_prompt)]).Row(0).ToArray());
        Assert.Equal(expected, b.Prefill([new PrefillPrompt(1, s_prompt)]).Row(0).ToArray());
        Assert.True(shared.ByteSize > 0);
    }

    [Fact]
    public void Disposing_an_instance_leaves_the_shared_weights_usable()
    {
        using IModelWeights weights = Gpt2Presets.Create(Gpt2Presets.Tiny);
        var context = new AcceleratorContext(new EngineOptions(1));
        using Accelerator accelerator = context.CreateDefault();
        using var shared = new Gpt2SharedWeights(accelerator, weights);
        float[] before;
        using (var first = new Gpt2Model(accelerator, shared, new Gpt2ModelOptions(1, 16)))
        {
            before = first.Prefill([new PrefillPrompt(0, s_prompt)]).Row(0).ToArray();
        }

        using var second = new Gpt2Model(accelerator, shared, new Gpt2ModelOptions(1, 16));

        Assert.Equal(before, second.Prefill([new PrefillPrompt(0, s_prompt)]).Row(0).ToArray());
    }

    [Fact]
    public void An_instance_cannot_ask_for_another_weight_precision_than_the_shared_upload()
    {
        using IModelWeights weights = Gpt2Presets.Create(Gpt2Presets.Tiny);
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        using var shared = new Gpt2SharedWeights(accelerator, weights, TensorDType.F32);

        var error = Assert.Throws<FloverException>(() => new Gpt2Model(accelerator, shared, new Gpt2ModelOptions(1, 16, WeightDType: TensorDType.F16)));

        Assert.Contains("cannot ask for F16", error.Message, StringComparison.Ordinal);
    }
}
