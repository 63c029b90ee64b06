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
