using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Models;

/// <summary>The engine on the real gpt2 shape (K up to 3072, a 50 257-column LM head, head size 64).</summary>
public sealed class Gpt2PresetEngineTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void On_the_gpt2_preset_a_batch_gives_each_sequence_its_solo_logits_bitwise()
    {
        using NativeModelWeights weights = Gpt2Presets.Create(Gpt2Presets.Gpt2);
        int[][] prompts = [[464, 2068, 7586, 21831], [15496, 11], [50256, 40, 1101, 257, 1310]];
        using var solo = new ModelHarness(weights, threads: 1, slots: 1, capacity: 8);
        float[][] expected = prompts.Select(p =>
        {
            solo.Model.Prefill([new PrefillPrompt(0, p[..^1])]);
            return solo.Model.Decode([new DecodeRow(0, p.Length - 1, p[^1])]).Row(0).ToArray();
        }).ToArray();
        using var batched = new ModelHarness(weights, threads: 2, slots: 5, capacity: 8);

        batched.Model.Prefill([new PrefillPrompt(4, prompts[0][..^1]), new PrefillPrompt(1, prompts[1][..^1]), new PrefillPrompt(2, prompts[2][..^1])]);
        ModelLogits logits = batched.Model.Decode(
        [
            new DecodeRow(2, prompts[2].Length - 1, prompts[2][^1]),
            new DecodeRow(4, prompts[0].Length - 1, prompts[0][^1]),
            new DecodeRow(1, prompts[1].Length - 1, prompts[1][^1]),
        ]);

        Assert.Equal(expected[2], logits.Row(0).ToArray());
        Assert.Equal(expected[0], logits.Row(1).ToArray());
        Assert.Equal(expected[1], logits.Row(2).ToArray());
    }
}
