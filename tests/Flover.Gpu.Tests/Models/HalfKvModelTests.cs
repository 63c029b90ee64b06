using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Tests.Models;

/// <summary>
/// A model whose KV cache holds F16 or BF16 against the float64 reference that rounds its keys and
/// values the same way: the logits agree as closely as with an F32 cache, and the rounding is real
/// (the reference that does not round is measurably farther away).
/// </summary>
public sealed class HalfKvModelTests
{
    private static readonly int[] s_tokens = [5, 17, 299, 42, 42, 0, 123, 250, 7, 99, 1, 64];

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Logits_match_a_float64_reference_that_rounds_keys_and_values_the_same_way(TensorDType kvDType)
    {
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config());
        using var harness = new ModelHarness(weights, threads: 2, kvDType: kvDType);

        float[][] actual = harness.PrefillAll(0, s_tokens);
        double[][] rounded = new ReferenceGpt2(weights, kvDType).Logits(s_tokens);
        double[][] unrounded = new ReferenceGpt2(weights).Logits(s_tokens);

        double worstRounded = 0;
        double worstUnrounded = 0;
        for (int row = 0; row < s_tokens.Length; row++)
        {
            double error = Gpt2ModelAccuracyTests.RelativeL2(actual[row], rounded[row]);
            Assert.True(error < 1e-5, $"row {row}: relative L2 {error:E3}");
            worstRounded = Math.Max(worstRounded, error);
            worstUnrounded = Math.Max(worstUnrounded, Gpt2ModelAccuracyTests.RelativeL2(actual[row], unrounded[row]));
        }

        Assert.True(worstUnrounded > 10 * worstRounded, $"the unrounded reference is {worstUnrounded:E3} away, the rounded one {worstRounded:E3}");
    }

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Head_size_that_is_not_a_multiple_of_the_vector_width_still_matches_the_rounding_reference(TensorDType kvDType)
    {
        // 36 / 3 = 12: keys and values are widened in the vector body and in the scalar tail.
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config(embedding: 36, heads: 3, vocabulary: 131));
        using var harness = new ModelHarness(weights, threads: 3, kvDType: kvDType);
        int[] tokens = [1, 2, 3, 130, 4, 5, 6];

        float[][] actual = harness.PrefillAll(0, tokens);
        double[][] expected = new ReferenceGpt2(weights, kvDType).Logits(tokens);

        for (int row = 0; row < actual.Length; row++)
        {
            Assert.True(Gpt2ModelAccuracyTests.RelativeL2(actual[row], expected[row]) < 1e-5, $"row {row}");
        }
    }
}
