using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Models;

/// <summary>
/// Weights held as F16 or BF16: the kernels widen them exactly, so a half checkpoint computed from
/// half panels gives bitwise the logits of the same checkpoint widened to F32 at load, in every
/// kernel path (one row, blocks of four, many rows through the widened panel) and every batch.
/// </summary>
public sealed class HalfPrecisionModelTests
{
    private static readonly int[] Tokens = [.. Enumerable.Range(0, 40).Select(i => ((i * 53) + 11) % 300)];

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Half_panels_give_bitwise_the_logits_of_the_same_weights_widened_at_load(TensorDType dtype)
    {
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config(embedding: 64), dtype, seed: 3);
        using var half = new ModelHarness(weights, threads: 2);
        using var widened = new ModelHarness(weights, threads: 2, weightDType: TensorDType.F32);
        Assert.Equal(dtype, half.Model.WeightDType);
        Assert.Equal(TensorDType.F32, widened.Model.WeightDType);
        Assert.True(half.Model.WeightBytes < widened.Model.WeightBytes * 0.6, $"{half.Model.WeightBytes} vs {widened.Model.WeightBytes} bytes");

        // 40 rows in one pass take the widened-panel path; decoding one row at a time the in-register one.
        Assert.Equal(widened.PrefillAll(0, Tokens), half.PrefillAll(0, Tokens));
        Assert.Equal(widened.DecodeEach(1, Tokens[..12]), half.DecodeEach(1, Tokens[..12]));
    }

    [Theory]
    [InlineData(TensorDType.F16, 1)]
    [InlineData(TensorDType.F16, 3)]
    [InlineData(TensorDType.BF16, 2)]
    public void Every_row_of_a_half_precision_batch_equals_its_solo_run_bitwise(TensorDType dtype, int threads)
    {
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config(), TensorDType.F32, seed: 5);
        using var solo = new ModelHarness(weights, threads: 1, slots: 1, weightDType: dtype);
        using var batched = new ModelHarness(weights, threads: threads, slots: 21, weightDType: dtype);
        int[][] sequences = [.. Enumerable.Range(0, 21).Select(s => Tokens.Skip(s).Take(6).ToArray())];
        float[][][] expected = [.. sequences.Select(sequence => solo.DecodeEach(0, sequence))];

        // Batches of 21, 5 and 1 rows cover the many-row, four-row and one-row kernel paths.
        for (int position = 0; position < 6; position++)
        {
            int count = position switch { 0 or 1 => 21, 2 or 3 => 5, _ => 1 };
            DecodeRow[] rows = [.. Enumerable.Range(0, 21).Select(s => new DecodeRow(s, position, sequences[s][position]))];
            for (int first = 0; first < rows.Length; first += count)
            {
                DecodeRow[] batch = rows[first..Math.Min(first + count, rows.Length)];
                ModelLogits logits = batched.Model.Decode(batch);
                for (int r = 0; r < batch.Length; r++)
                {
                    Assert.Equal(expected[batch[r].Slot][position], logits.Row(r).ToArray());
                }
            }
        }
    }

    [Theory]
    [InlineData(TensorDType.F16, 2e-3)]
    [InlineData(TensorDType.BF16, 2e-2)]
    public void Rounding_f32_weights_to_half_keeps_the_logits_close_and_the_greedy_tokens(TensorDType dtype, double tolerance)
    {
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config(), TensorDType.F32, seed: 9);
        using var full = new ModelHarness(weights);
        using var half = new ModelHarness(weights, weightDType: dtype);

        float[][] expected = full.PrefillAll(0, Tokens);
        float[][] actual = half.PrefillAll(0, Tokens);

        double error = 0, norm = 0;
        int agree = 0;
        for (int row = 0; row < expected.Length; row++)
        {
            for (int i = 0; i < expected[row].Length; i++)
            {
                error += Math.Pow(actual[row][i] - expected[row][i], 2);
                norm += Math.Pow(expected[row][i], 2);
            }

            agree += ArgMax(expected[row]) == ArgMax(actual[row]) ? 1 : 0;
        }

        Assert.InRange(Math.Sqrt(error / norm), 1e-7, tolerance);
        Assert.True(agree >= expected.Length - 1, $"greedy tokens agree at {agree} of {expected.Length} positions");
    }

    [Fact]
    public void A_separate_lm_head_is_used_and_the_tied_table_is_held_once()
    {
        using NativeModelWeights tied = TinyGpt2.Weights(TinyGpt2.Config(), TensorDType.F32, seed: 2);
        using NativeModelWeights separate = TinyGpt2.Weights(TinyGpt2.Config(), TensorDType.F32, seed: 2, separateHead: true);
        using var tiedModel = new ModelHarness(tied);
        using var separateModel = new ModelHarness(separate);

        // The separate head adds a packed head and keeps the flat table: more than one extra table.
        long table = 300L * 32 * sizeof(float);
        Assert.True(separateModel.Model.WeightBytes - tiedModel.Model.WeightBytes >= table, $"{separateModel.Model.WeightBytes} vs {tiedModel.Model.WeightBytes}");
        Assert.NotEqual(tiedModel.PrefillAll(0, Tokens[..4]), separateModel.PrefillAll(0, Tokens[..4]));
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }
}
