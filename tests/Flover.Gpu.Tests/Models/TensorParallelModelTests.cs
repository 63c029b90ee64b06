using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;

namespace Flover.Gpu.Tests.Models;

/// <summary>
/// Megatron-style tensor parallelism in one process: a 12-head model split over 1–4 shards computes
/// the unsplit model's logits to rounding, with the same greedy tokens, through admissions,
/// retirements and KV moves, and the same bits from run to run.
/// </summary>
public sealed class TensorParallelModelTests
{
    // 12 heads, so 1, 2, 3 and 4 shards all divide them; a vocabulary of 301 splits unevenly.
    private static readonly Gpt2Config Config = TinyGpt2.Config(embedding: 48, heads: 12, vocabulary: 301);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Split_model_matches_the_whole_model_through_admissions_retirements_and_moves(int shards)
    {
        using NativeModelWeights weights = TinyGpt2.Weights(Config, TensorDType.F32, seed: 11);
        using var whole = new ModelHarness(weights, threads: 1, slots: 4);
        using var split = new TensorParallelModel(new EngineOptions(shards), weights, new Gpt2ModelOptions(4), shards);

        List<float[]> expected = Script(whole.Model);
        List<float[]> actual = Script(split);

        Assert.Equal(expected.Count, actual.Count);
        for (int row = 0; row < expected.Count; row++)
        {
            Assert.InRange(RelativeL2(actual[row], expected[row]), 0, 1e-5);
            Assert.Equal(ArgMax(expected[row]), ArgMax(actual[row]));
        }
    }

    [Fact]
    public void The_tied_embedding_is_looked_up_from_the_vocabulary_slices_not_replicated()
    {
        Gpt2Config config = TinyGpt2.Config(embedding: 48, heads: 12, vocabulary: 3001);
        using NativeModelWeights weights = TinyGpt2.Weights(config, TensorDType.F32, seed: 14);
        using var whole = new ModelHarness(weights, threads: 1, slots: 2);
        using var split = new TensorParallelModel(new EngineOptions(2), weights, new Gpt2ModelOptions(2), 2);

        // A replicated F32 table would add 576 KB per extra shard; panel padding and the replicated
        // vectors add a few tens of KB.
        long table = (long)config.VocabularySize * config.EmbeddingSize * sizeof(float);
        Assert.True(split.WeightBytes - whole.Model.WeightBytes < table / 4, $"{split.WeightBytes} vs {whole.Model.WeightBytes}");
        Assert.InRange(RelativeL2(split.Decode([new DecodeRow(0, 0, 2999)]).Row(0).ToArray(), whole.Model.Decode([new DecodeRow(0, 0, 2999)]).Row(0).ToArray()), 0, 1e-5);
    }

    [Fact]
    public void Split_results_are_bitwise_the_same_from_run_to_run()
    {
        using NativeModelWeights weights = TinyGpt2.Weights(Config, TensorDType.F32, seed: 12);
        using var first = new TensorParallelModel(new EngineOptions(3), weights, new Gpt2ModelOptions(4), 3);
        using var second = new TensorParallelModel(new EngineOptions(3), weights, new Gpt2ModelOptions(4), 3);

        Assert.Equal(Script(first), Script(second));
    }

    [Fact]
    public void A_shard_count_that_does_not_divide_the_heads_is_refused_naming_both()
    {
        using NativeModelWeights weights = TinyGpt2.Weights(Config, TensorDType.F32, seed: 1);

        var error = Assert.Throws<FloverException>(() => new TensorParallelModel(new EngineOptions(1), weights, new Gpt2ModelOptions(2), 5));

        Assert.Contains("12 attention heads", error.Message, StringComparison.Ordinal);
        Assert.Contains("5 tensor-parallel shards", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_input_fails_on_every_shard_alike_and_the_group_keeps_working()
    {
        using NativeModelWeights weights = TinyGpt2.Weights(Config, TensorDType.F32, seed: 13);
        using var split = new TensorParallelModel(new EngineOptions(2), weights, new Gpt2ModelOptions(2), 2);
        float[] before = split.Decode([new DecodeRow(0, 0, 5)]).Row(0).ToArray();

        Assert.Throws<ArgumentOutOfRangeException>(() => split.Decode([new DecodeRow(0, 1, 999)]));

        float[] again = split.Decode([new DecodeRow(1, 0, 5)]).Row(0).ToArray();
        Assert.Equal(before, again);
    }

    /// <summary>Prefills three prompts (one chunked), decodes, retires one and moves another into its slot, decodes on.</summary>
    private static List<float[]> Script(IModel model)
    {
        var rows = new List<float[]>();
        void Keep(ModelLogits logits)
        {
            for (int r = 0; r < logits.RowCount; r++)
            {
                rows.Add(logits.Row(r).ToArray());
            }
        }

        Keep(model.Prefill([new PrefillPrompt(0, new[] { 1, 2, 3, 4, 5 }, 0, LogitsSelection.All), new PrefillPrompt(1, new[] { 300, 7, 9 })]));
        Keep(model.Prefill([new PrefillPrompt(2, new[] { 11, 12, 13, 14 }, 0, LogitsSelection.All)]));
        Keep(model.Prefill([new PrefillPrompt(2, new[] { 15, 16 }, 4, LogitsSelection.All)]));
        Keep(model.Decode([new DecodeRow(0, 5, 6), new DecodeRow(1, 3, 10), new DecodeRow(2, 6, 17)]));
        Keep(model.Decode([new DecodeRow(2, 7, 18), new DecodeRow(0, 6, 7)]));
        // Slot 1 finished; slot 2 moves into it (compaction), then decoding continues there.
        model.Copy(2, 1, 8);
        Keep(model.Decode([new DecodeRow(0, 7, 8), new DecodeRow(1, 8, 19)]));
        Keep(model.Prefill([new PrefillPrompt(3, Enumerable.Range(20, 30).ToArray(), 0, LogitsSelection.All)]));
        Keep(model.Decode([new DecodeRow(3, 30, 1), new DecodeRow(1, 9, 2), new DecodeRow(0, 8, 3)]));
        return rows;
    }

    private static double RelativeL2(float[] actual, float[] expected)
    {
        double error = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            error += Math.Pow(actual[i] - expected[i], 2);
            norm += Math.Pow(expected[i], 2);
        }

        return Math.Sqrt(error / norm);
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
