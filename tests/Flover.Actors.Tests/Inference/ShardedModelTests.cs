using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Tests.Models;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>
/// Megatron-style tensor parallelism as the engine runs it, on shard actors: a 12-head model split
/// over 1–4 shards computes the unsplit model's logits to rounding, with the same greedy tokens,
/// through admissions, retirements and KV moves, and the same bits from run to run; on ILGPU's CPU
/// accelerator the shards meet in the host-staged group and give the CPU engine's tokens.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ShardedModelTests(ITestOutputHelper output) : TestKit(AkkaTestConfig.Default, output: output)
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
        using var whole = Gpt2Model.Load(new EngineOptions(1), weights, new Gpt2ModelOptions(4));
        using ShardedModelClient split = Start(weights, shards, 4);

        List<float[]> expected = Script(whole);
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
        using var whole = Gpt2Model.Load(new EngineOptions(1), weights, new Gpt2ModelOptions(2));
        using ShardedModelClient split = Start(weights, 2, 2);

        // A replicated F32 table would add 576 KB per extra shard; panel padding and the replicated
        // vectors add a few tens of KB.
        long table = (long)config.VocabularySize * config.EmbeddingSize * sizeof(float);
        Assert.True(split.WeightBytes - whole.WeightBytes < table / 4, $"{split.WeightBytes} vs {whole.WeightBytes}");
        Assert.InRange(RelativeL2(split.Decode([new DecodeRow(0, 0, 2999)]).Row(0).ToArray(), whole.Decode([new DecodeRow(0, 0, 2999)]).Row(0).ToArray()), 0, 1e-5);
    }

    [Fact]
    public void Split_results_are_bitwise_the_same_from_run_to_run()
    {
        using NativeModelWeights weights = TinyGpt2.Weights(Config, TensorDType.F32, seed: 12);
        using ShardedModelClient first = Start(weights, 3, 4);
        using ShardedModelClient second = Start(weights, 3, 4);

        Assert.Equal(Script(first), Script(second));
    }

    [Fact]
    public void A_shard_count_that_does_not_divide_the_heads_is_refused_naming_both()
    {
        using NativeModelWeights weights = TinyGpt2.Weights(Config, TensorDType.F32, seed: 1);

        var error = Assert.Throws<FloverException>(() => EngineSetup.Shards(new EngineOptions(1, TensorParallel: 5), weights, new Gpt2ModelOptions(2)));

        Assert.Contains("12 attention heads", error.Message, StringComparison.Ordinal);
        Assert.Contains("5 tensor-parallel shards", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_input_fails_on_every_shard_alike_and_the_group_keeps_working()
    {
        using NativeModelWeights weights = TinyGpt2.Weights(Config, TensorDType.F32, seed: 13);
        using ShardedModelClient split = Start(weights, 2, 2);
        float[] before = split.Decode([new DecodeRow(0, 0, 5)]).Row(0).ToArray();

        var error = Assert.Throws<FloverException>(() => split.Decode([new DecodeRow(0, 1, 999)]));

        Assert.Contains("failed a step", error.Message, StringComparison.Ordinal);
        float[] again = split.Decode([new DecodeRow(1, 0, 5)]).Row(0).ToArray();
        Assert.Equal(before, again);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Shards_on_ilgpus_cpu_accelerator_give_the_cpu_engines_greedy_tokens(int shards)
    {
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config(embedding: 28, heads: 4), TensorDType.F32, seed: 3);
        var options = new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: 16, MaxRowsPerStep: 8);
        int[] prompt = [5, 17, 2, 90, 33];
        int[] cpu;
        using (var whole = Gpt2Model.Load(new EngineOptions(1), weights, options))
        {
            cpu = Greedy(whole, prompt, 4);
        }

        ShardedModel model = EngineSetup.Shards(new EngineOptions(shards, TensorParallel: shards) { Device = new DeviceSpec(AcceleratorKind.IlgpuCpu) }, weights, options);
        using ShardedModelClient device = ShardedModelClient.Start(Sys, model, 1);

        Assert.Equal(cpu, Greedy(device, prompt, 4));
        if (shards > 1)
        {
            // The shards met in the host-staged group's collectives (CPU buffers' pointers would not do on a device).
            Assert.True(device.CollectiveSeconds > 0);
        }
    }

    private ShardedModelClient Start(IModelWeights weights, int shards, int slots) =>
        ShardedModelClient.Start(Sys, EngineSetup.Shards(new EngineOptions(shards, TensorParallel: shards), weights, new Gpt2ModelOptions(slots)), slots);

    internal static int[] Greedy(IModel model, int[] prompt, int count)
    {
        var tokens = new List<int>();
        int next = ArgMax(model.Prefill([new PrefillPrompt(0, prompt)]).Row(0).ToArray());
        for (int i = 0; i < count; i++)
        {
            tokens.Add(next);
            next = ArgMax(model.Decode([new DecodeRow(0, prompt.Length + i, next)]).Row(0).ToArray());
        }

        return [.. tokens];
    }

    /// <summary>Prefills three prompts (one chunked), decodes, retires one and moves another into its slot, decodes on.</summary>
    internal static List<float[]> Script(IModel model)
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

    internal static double RelativeL2(float[] actual, float[] expected)
    {
        double error = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            error += Math.Pow(actual[i] - expected[i], 2);
            norm += Math.Pow(expected[i], 2);
        }

        return Math.Sqrt(error / norm);
    }

    internal static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }
}
