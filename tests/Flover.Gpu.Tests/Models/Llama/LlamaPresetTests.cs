using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Tests.Models.Llama;

/// <summary>The llama-tiny preset: seeded, and a working GQA model (prefill equals decode bitwise on it too).</summary>
public sealed class LlamaPresetTests
{
    [Fact]
    public void The_same_seed_gives_the_same_logits_and_another_seed_other_ones()
    {
        int[] prompt = [1, 5, 900, 17];

        float[] first = LastLogits(prompt, seed: 7);

        Assert.Equal(first, LastLogits(prompt, seed: 7));
        Assert.NotEqual(first, LastLogits(prompt, seed: 8));
        Assert.All(first, value => Assert.True(float.IsFinite(value)));
    }

    [Fact]
    public void Prefill_equals_decoding_one_by_one_bitwise()
    {
        int[] tokens = [1, 5, 900, 17, 4, 4, 1000, 3];
        using LlamaWeights weights = LlamaPresets.Create(LlamaPresets.Tiny);
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(2)).CreateDefault();
        using var model = new LlamaModel(accelerator, weights, new LlamaModelOptions(SlotCount: 2, SlotCapacity: 16));

        ModelLogits all = model.Prefill([new PrefillPrompt(0, tokens, 0, LogitsSelection.All)]);
        float[][] prefilled = [.. Enumerable.Range(0, all.RowCount).Select(r => all.Row(r).ToArray())];
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.Equal(prefilled[i], model.Decode([new DecodeRow(1, i, tokens[i])]).Row(0).ToArray());
        }
    }

    [Fact]
    public void An_unknown_preset_is_one_line_listing_the_known_ones()
    {
        var error = Assert.Throws<FloverException>(() => LlamaPresets.Create("llama-huge"));

        Assert.Equal("Unknown LLaMA preset 'llama-huge' (known: llama-tiny).", error.Message);
    }

    private static float[] LastLogits(int[] prompt, ulong seed)
    {
        using LlamaWeights weights = LlamaPresets.Create(LlamaPresets.Tiny, seed);
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        using var model = new LlamaModel(accelerator, weights, new LlamaModelOptions(SlotCount: 1, SlotCapacity: 16));
        return model.Prefill([new PrefillPrompt(0, prompt)]).Row(0).ToArray();
    }
}
