using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Tests.Checkpoints;

namespace Flover.Gpu.Tests.Models;

public sealed class Gpt2ModelAccuracyTests
{
    private static readonly int[] s_tokens = [5, 17, 299, 42, 42, 0, 123, 250, 7, 99, 1, 64];

    [Theory]
    [InlineData(TensorDType.F32, Gpt2Activation.GeluTanh)]
    [InlineData(TensorDType.F16, Gpt2Activation.GeluTanh)]
    [InlineData(TensorDType.BF16, Gpt2Activation.GeluTanh)]
    [InlineData(TensorDType.F32, Gpt2Activation.GeluExact)]
    [InlineData(TensorDType.F32, Gpt2Activation.Relu)]
    public void Logits_match_a_float64_reference_within_relative_L2_of_1e_5(TensorDType dtype, Gpt2Activation activation)
    {
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config(activation), dtype);
        using var harness = new ModelHarness(weights, threads: 2);

        float[][] actual = harness.PrefillAll(0, s_tokens);
        double[][] expected = new ReferenceGpt2(weights).Logits(s_tokens);

        for (int row = 0; row < s_tokens.Length; row++)
        {
            Assert.True(RelativeL2(actual[row], expected[row]) < 1e-5, $"row {row}: relative L2 {RelativeL2(actual[row], expected[row]):E3}");
        }
    }

    [Fact]
    public void A_separate_lm_head_is_used_instead_of_the_token_embedding()
    {
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config(), separateHead: true);
        using var harness = new ModelHarness(weights);

        float[][] actual = harness.PrefillAll(0, s_tokens);
        double[][] expected = new ReferenceGpt2(weights).Logits(s_tokens);

        Assert.True(RelativeL2(actual[^1], expected[^1]) < 1e-5);
    }

    [Fact]
    public void Head_size_that_is_not_a_multiple_of_the_vector_width_still_matches_the_reference()
    {
        // 36 / 3 = 12: attention dot products take the vector body and a scalar tail; N = 108 pads the last panel.
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config(embedding: 36, heads: 3, vocabulary: 131));
        using var harness = new ModelHarness(weights, threads: 3);

        float[][] actual = harness.PrefillAll(0, [1, 2, 3, 130, 4, 5, 6]);
        double[][] expected = new ReferenceGpt2(weights).Logits([1, 2, 3, 130, 4, 5, 6]);

        for (int row = 0; row < actual.Length; row++)
        {
            Assert.True(RelativeL2(actual[row], expected[row]) < 1e-5, $"row {row}");
        }
    }

    [Fact]
    public void The_tiny_preset_matches_the_reference()
    {
        using NativeModelWeights weights = Gpt2Presets.Create(Gpt2Presets.Tiny);
        using var harness = new ModelHarness(weights, threads: 2, slots: 1, capacity: 16);
        int[] tokens = [50256, 464, 2068, 7586];

        float[][] actual = harness.PrefillAll(0, tokens);
        double[][] expected = new ReferenceGpt2(weights).Logits(tokens);

        Assert.True(RelativeL2(actual[^1], expected[^1]) < 1e-5);
    }

    [Theory]
    [InlineData(TensorDType.BF16)]
    [InlineData(TensorDType.F16)]
    public void A_memory_mapped_half_precision_checkpoint_matches_the_reference(TensorDType dtype)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"flover-engine-{Guid.NewGuid():N}");
        try
        {
            TestCheckpoint.Write(folder, TestCheckpoint.Weights(dtype: dtype), TestCheckpoint.ConfigJson());
            using IModelWeights weights = Gpt2Checkpoint.Load(folder);
            using var harness = new ModelHarness(weights, threads: 2, slots: 1);
            int[] tokens = [1, 5, 39, 0, 17];

            float[][] actual = harness.PrefillAll(0, tokens);
            double[][] expected = new ReferenceGpt2(weights).Logits(tokens);

            for (int row = 0; row < tokens.Length; row++)
            {
                Assert.True(RelativeL2(actual[row], expected[row]) < 1e-5, $"row {row}");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    internal static double RelativeL2(float[] actual, double[] expected)
    {
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            difference += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }

        return Math.Sqrt(difference / norm);
    }
}
