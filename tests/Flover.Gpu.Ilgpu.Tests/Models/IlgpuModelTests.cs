using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.GpuCheck.Checks;

namespace Flover.Gpu.Ilgpu.Tests.Models;

/// <summary>The whole GPT-2 step on ILGPU's CPU accelerator against the CPU engine, and its batch invariance.</summary>
public sealed class IlgpuModelTests : IClassFixture<IlgpuModelTests.Weights>
{
    private static readonly int[] Prompt = [5, 17, 2, 90, 33, 61, 8];
    private readonly Weights _weights;

    public IlgpuModelTests(Weights weights)
    {
        _weights = weights;
    }

    [Fact]
    public void F32_logits_match_the_cpu_engine_and_greedy_tokens_are_equal()
    {
        ModelComparison result = ModelChecks.AgainstCpuEngine(Oracle.Open, _weights.Tied, null, Prompt, 6);

        Assert.InRange(result.WorstRelativeL2, 0, 1e-5);
        Assert.True(result.GreedyEqual);
    }

    [Fact]
    public void An_own_lm_head_and_exact_gelu_match_the_cpu_engine()
    {
        ModelComparison result = ModelChecks.AgainstCpuEngine(Oracle.Open, _weights.OwnHead, null, Prompt, 4);

        Assert.InRange(result.WorstRelativeL2, 0, 1e-5);
        Assert.True(result.GreedyEqual);
    }

    [Theory]
    [InlineData(TensorDType.BF16)]
    [InlineData(TensorDType.F16)]
    public void Half_precision_weights_match_the_cpu_engine_holding_the_same_weights(TensorDType dtype)
    {
        ModelComparison result = ModelChecks.AgainstCpuEngine(Oracle.Open, _weights.Tied, dtype, Prompt, 4);

        Assert.InRange(result.WorstRelativeL2, 0, 1e-4);
        Assert.True(result.GreedyEqual);
    }

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void A_half_kv_cache_matches_the_cpu_engine_holding_the_same_kv_precision(TensorDType kvType)
    {
        ModelComparison result = ModelChecks.AgainstCpuEngine(Oracle.Open, _weights.Tied, null, Prompt, 6, kvType);

        Assert.InRange(result.WorstRelativeL2, 0, 1e-5);
        Assert.True(result.GreedyEqual);
    }

    [Theory]
    [InlineData(MemoryMode.Indexed, TensorDType.F16)]
    [InlineData(MemoryMode.Holes, TensorDType.BF16)]
    [InlineData(MemoryMode.Shuffle, TensorDType.F16)]
    [InlineData(MemoryMode.Shuffle, TensorDType.BF16)]
    public void Fused_decode_with_a_half_kv_cache_equals_each_sequence_alone_bitwise(MemoryMode mode, TensorDType kvType) =>
        Assert.Null(ModelChecks.FusedEqualsAlone(Oracle.Open, _weights.Tied, mode, kvType));

    [Theory]
    [InlineData(MemoryMode.Indexed)]
    [InlineData(MemoryMode.Holes)]
    [InlineData(MemoryMode.Shuffle)]
    public void Fused_decode_equals_each_sequence_alone_bitwise(MemoryMode mode) =>
        Assert.Null(ModelChecks.FusedEqualsAlone(Oracle.Open, _weights.Tied, mode));

    [Fact]
    public void Prefill_split_into_passes_equals_one_pass_and_token_by_token_decode_bitwise()
    {
        int[] tokens = [.. Enumerable.Range(0, 11).Select(i => (i * 37) % 97)];
        float[][] onePass = PrefillAll(rowsPerStep: 16, slot: 0, tokens);
        float[][] manyPasses = PrefillAll(rowsPerStep: 3, slot: 2, tokens);
        using var accelerator = Oracle.Open();
        using var model = new Gpt2Model(accelerator, _weights.Tied, new Gpt2ModelOptions(SlotCount: 3, SlotCapacity: 16, MaxRowsPerStep: 4));
        float[][] decoded = [.. tokens.Select((token, step) => model.Decode([new DecodeRow(1, step, token)]).Row(0).ToArray())];

        Assert.True(Compare.Bitwise(onePass, manyPasses));
        Assert.True(Compare.Bitwise(onePass, decoded));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Tensor_parallel_shards_on_one_device_give_the_unsplit_greedy_tokens(int shards)
    {
        NativeModelWeights weights = shards == 2 ? _weights.FourHeads : _weights.Tied;
        var options = new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: 16, MaxRowsPerStep: 8);
        int[] single;
        using (var accelerator = Oracle.Open())
        using (var model = new Gpt2Model(accelerator, weights, options))
        {
            single = ModelChecks.Greedy(model, Prompt, 6);
        }

        using var split = new ShardedModel(Oracle.Open, weights, options, shards);

        Assert.Equal(single, ModelChecks.Greedy(split, Prompt, 6));
    }

    private float[][] PrefillAll(int rowsPerStep, int slot, int[] tokens)
    {
        using var accelerator = Oracle.Open();
        using var model = new Gpt2Model(accelerator, _weights.Tied, new Gpt2ModelOptions(SlotCount: 3, SlotCapacity: 16, MaxRowsPerStep: rowsPerStep));
        ModelLogits logits = model.Prefill([new PrefillPrompt(slot, tokens, 0, LogitsSelection.All)]);
        return [.. Enumerable.Range(0, logits.RowCount).Select(r => logits.Row(r).ToArray())];
    }

    /// <summary>The checkpoints, written once for the class: tied head (GELU tanh, 3 heads), an own head with exact GELU, and 4 heads.</summary>
    public sealed class Weights : IDisposable
    {
        public NativeModelWeights Tied { get; } = CheckWeights.Create(CheckWeights.Config());

        public NativeModelWeights OwnHead { get; } = CheckWeights.Create(CheckWeights.Config(activation: Gpt2Activation.GeluExact), separateHead: true);

        /// <summary>Four heads of 7, so two shards divide them.</summary>
        public NativeModelWeights FourHeads { get; } = CheckWeights.Create(CheckWeights.Config(embedding: 28, heads: 4));

        public void Dispose()
        {
            Tied.Dispose();
            OwnHead.Dispose();
            FourHeads.Dispose();
        }
    }
}
