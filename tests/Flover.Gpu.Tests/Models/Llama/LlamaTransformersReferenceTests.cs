using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Xunit.Abstractions;

namespace Flover.Gpu.Tests.Models.Llama;

/// <summary>
/// LLaMA on the CPU accelerator against Hugging Face transformers' own float64 logits for three small
/// random checkpoints it wrote (TestData/huggingface/llama-*, see the README there): GQA with llama3
/// rope, MQA with tied embeddings and linear rope, and attention plus MLP biases.
/// </summary>
public sealed class LlamaTransformersReferenceTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases => [.. LlamaReferenceCase.Names];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Logits_of_every_prompt_position_and_greedy_tokens_match_transformers(string name)
    {
        LlamaReferenceCase reference = LlamaReferenceCase.Read(name);
        using LlamaWeights weights = LlamaCheckpoint.Load(reference.Folder);

        (float[][][] logits, int[][] greedy) = LlamaReferenceCase.Run(weights, reference.Cases);

        Assert.Equal(3, reference.Cases.Count);
        double worst = reference.Cases.Select((c, i) => LlamaReferenceCase.WorstRelativeL2(logits[i], c.Logits)).Max();
        output.WriteLine($"{name}: worst row relative L2 {worst:E2} against transformers float64");
        Assert.InRange(worst, 0, 1e-5);
        for (int i = 0; i < reference.Cases.Count; i++)
        {
            Assert.Equal(reference.Cases[i].Greedy, greedy[i]);
        }
    }

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void With_a_16_bit_kv_cache_logits_stay_within_a_few_roundings_of_transformers_and_greedy_tokens_hold(TensorDType kvDType)
    {
        foreach (string name in LlamaReferenceCase.Names)
        {
            LlamaReferenceCase reference = LlamaReferenceCase.Read(name);
            using LlamaWeights weights = LlamaCheckpoint.Load(reference.Folder);

            (float[][][] logits, int[][] greedy) = LlamaReferenceCase.Run(weights, reference.Cases, kvDType: kvDType);

            double worst = reference.Cases.Select((c, i) => LlamaReferenceCase.WorstRelativeL2(logits[i], c.Logits)).Max();
            output.WriteLine($"{name} {kvDType} KV: worst row relative L2 {worst:E2}");
            // Keys and values rounded once each: the logits move by about the precision's unit
            // roundoff (F16 4.9e-4, BF16 3.9e-3; measured 2.8e-4..5.4e-4 and 2.7e-3..4.1e-3), never
            // by more than four of them, and well beyond the F32 cache's 1e-5, so the rounding is real.
            double unit = kvDType == TensorDType.F16 ? Math.Pow(2, -11) : Math.Pow(2, -8);
            Assert.InRange(worst, 1e-5, 4 * unit);
            for (int i = 0; i < reference.Cases.Count; i++)
            {
                Assert.Equal(reference.Cases[i].Greedy, greedy[i]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_config_in_transformers_4_form_with_type_or_rope_type_gives_the_same_logits(string name)
    {
        LlamaReferenceCase reference = LlamaReferenceCase.Read(name);
        string scratch = Path.Combine(Path.GetTempPath(), $"flover-llama-{name}-{Guid.NewGuid():N}");
        try
        {
            float[][][] expected;
            using (LlamaWeights weights = LlamaCheckpoint.Load(reference.Folder))
            {
                expected = LlamaReferenceCase.Run(weights, reference.Cases).Logits;
            }

            foreach (string typeKey in new[] { "type", "rope_type" })
            {
                string folder = LlamaReferenceCase.CopyWithConfig(reference.Folder, Path.Combine(scratch, typeKey), config => LlamaReferenceCase.ToTransformers4(config, typeKey));
                using LlamaWeights weights = LlamaCheckpoint.Load(folder);
                Assert.Equal(LlamaConfigReader.Read(Path.Combine(reference.Folder, "config.json")).Rope, weights.Config.Rope);
                Assert.Equal(expected, LlamaReferenceCase.Run(weights, reference.Cases).Logits);
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
