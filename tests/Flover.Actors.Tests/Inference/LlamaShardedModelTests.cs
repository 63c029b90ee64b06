using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models.Llama;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>
/// Tensor parallelism for LLaMA on the engine's shard actors: query heads split, key/value heads split
/// or, with fewer than shards, replicated; MLP columns and the vocabulary split; the three transformers
/// checkpoints give the whole model's logits to rounding and its greedy tokens through admissions,
/// retirements and KV moves.
/// </summary>
[Trait("Category", "Slow")]
public sealed class LlamaShardedModelTests(ITestOutputHelper output) : TestKit(AkkaTestConfig.Default, output: output)
{
    [Theory]
    [InlineData("llama-gqa-llama3rope", 2)] // 4 heads over 2 KV heads: one KV head per shard
    [InlineData("llama-gqa-llama3rope", 4)] // each KV head replicated on the two shards of its group
    [InlineData("llama-mqa-tied-linear", 3)] // one KV head on all three shards; the tied head split by vocabulary
    [InlineData("llama-bias-mha", 2)] // biases on q/k/v, gate/up (split) and o/down (added once after the sum)
    [InlineData("llama-bias-mha", 4)]
    public void Split_llama_matches_the_whole_model_through_admissions_retirements_and_moves(string name, int shards)
    {
        using LlamaWeights weights = LlamaCheckpoint.Load(Folder(name));
        using var whole = LlamaModel.Load(new EngineOptions(1), weights, new LlamaModelOptions(4, 64));
        using ShardedModelClient split = ShardedModelClient.Start(Sys, LlamaEngineSetup.Shards(new EngineOptions(shards, TensorParallel: shards), weights, new LlamaModelOptions(4, 64)), 4);

        List<float[]> expected = ShardedModelTests.Script(whole);
        List<float[]> actual = ShardedModelTests.Script(split);

        Assert.Equal(expected.Count, actual.Count);
        double worst = 0;
        for (int row = 0; row < expected.Count; row++)
        {
            worst = Math.Max(worst, ShardedModelTests.RelativeL2(actual[row], expected[row]));
            Assert.Equal(ShardedModelTests.ArgMax(expected[row]), ShardedModelTests.ArgMax(actual[row]));
        }

        Output.WriteLine($"{name} over {shards} shards: worst row relative L2 {worst:E2} against the whole model");
        Assert.InRange(worst, 0, 1e-5);
        // Each shard holds its part: far less than the whole model each, together about the whole.
        Assert.InRange(split.WeightBytes, whole.WeightBytes * 0.9, whole.WeightBytes * 1.6);
    }

    [Fact]
    public void Shards_on_ilgpus_cpu_accelerator_give_transformers_greedy_tokens()
    {
        using LlamaWeights weights = LlamaCheckpoint.Load(Folder("llama-gqa-llama3rope"));
        var options = new LlamaModelOptions(SlotCount: 1, SlotCapacity: 48, MaxRowsPerStep: 16);
        int[] prompt = [1, 800, 3];
        ShardedModel model = LlamaEngineSetup.Shards(new EngineOptions(2, TensorParallel: 2) { Device = new DeviceSpec(AcceleratorKind.IlgpuCpu) }, weights, options);
        using ShardedModelClient device = ShardedModelClient.Start(Sys, model, 1);

        // transformers' own greedy continuation of this prompt (reference-logits.json, case 1).
        Assert.Equal([72, 171, 125, 290, 527, 305, 983, 734], ShardedModelTests.Greedy(device, prompt, 8));
        Assert.True(device.CollectiveSeconds > 0);
    }

    [Fact]
    public void A_16_bit_kv_cache_splits_too_within_one_rounding_of_the_whole_model()
    {
        using LlamaWeights weights = LlamaCheckpoint.Load(Folder("llama-gqa-llama3rope"));
        var options = new LlamaModelOptions(4, 64) { KvDType = TensorDType.BF16 };
        using var whole = LlamaModel.Load(new EngineOptions(1), weights, options);
        using ShardedModelClient split = ShardedModelClient.Start(Sys, LlamaEngineSetup.Shards(new EngineOptions(2, TensorParallel: 2), weights, options), 4);

        List<float[]> expected = ShardedModelTests.Script(whole);
        List<float[]> actual = ShardedModelTests.Script(split);

        // Both round keys and values to BF16, but the F32 values before rounding differ by the split's
        // summation order (~1e-6), which now and then moves one across a rounding boundary: the
        // logits stay within one BF16 unit roundoff (2^-8), with the same argmax.
        for (int row = 0; row < expected.Count; row++)
        {
            Assert.InRange(ShardedModelTests.RelativeL2(actual[row], expected[row]), 0, Math.Pow(2, -8));
            Assert.Equal(ShardedModelTests.ArgMax(expected[row]), ShardedModelTests.ArgMax(actual[row]));
        }
    }

    [Fact]
    public void A_shard_count_that_splits_the_query_heads_but_not_the_kv_heads_is_refused_naming_both()
    {
        using LlamaWeights weights = LlamaCheckpoint.Load(Folder("llama-gqa-llama3rope"));

        var heads = Assert.Throws<FloverException>(() => LlamaEngineSetup.Shards(new EngineOptions(3, TensorParallel: 3), weights, new LlamaModelOptions(2, 16)));
        LlamaConfig sixOverThree = weights.Config with { HeadCount = 6, KvHeadCount = 3 };
        var kv = Assert.Throws<FloverException>(() => sixOverThree.CheckShardCount(2, "six-over-three"));

        Assert.Equal($"{weights.Source}: 4 attention heads cannot be split evenly over 3 tensor-parallel shards; use a shard count that divides 4.", heads.Message);
        Assert.Equal("six-over-three: 3 key/value heads can be neither split evenly over 2 tensor-parallel shards nor replicated across them; use a shard count that divides 3 or is a multiple of it.", kv.Message);
    }

    private static string Folder(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);
}
