using Flover.Gpu.Checkpoints;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tests.Models;

namespace Flover.Gpu.Tests.Sampling;

public sealed class SequenceGeneratorTests : IDisposable
{
    private readonly NativeModelWeights _weights = TinyGpt2.Weights(TinyGpt2.Config(positions: 16));
    private readonly ModelHarness _harness;

    public SequenceGeneratorTests()
    {
        _harness = new ModelHarness(_weights, threads: 2, slots: 3);
    }

    public void Dispose()
    {
        _harness.Dispose();
        _weights.Dispose();
    }

    [Fact]
    public void Greedy_generation_feeds_back_the_argmax_of_every_step()
    {
        int[] prompt = [1, 2, 3];
        var greedy = new SamplingParameters { Temperature = 0, MaxTokens = 5, IgnoreEos = true };

        GenerationResult result = SequenceGenerator.Generate(_harness.Model, 0, prompt, greedy, eosTokenId: 299);

        int[] sequence = [.. prompt, .. result.Tokens.Select(t => t.TokenId)];
        float[][] logits = _harness.PrefillAll(1, sequence);
        for (int i = 0; i < 5; i++)
        {
            float[] row = logits[prompt.Length - 1 + i];
            Assert.Equal(Array.IndexOf(row, row.Max()), result.Tokens[i].TokenId);
        }

        Assert.Equal(FinishReason.Length, result.Finish);
    }

    [Fact]
    public void The_same_seed_generates_the_same_tokens_in_any_slot()
    {
        var parameters = new SamplingParameters { Seed = 11, MaxTokens = 8, IgnoreEos = true };

        GenerationResult first = SequenceGenerator.Generate(_harness.Model, 0, new[] { 5, 6 }, parameters, 299);
        GenerationResult second = SequenceGenerator.Generate(_harness.Model, 2, new[] { 5, 6 }, parameters, 299);

        Assert.Equal(first.Tokens.Select(t => t.TokenId), second.Tokens.Select(t => t.TokenId));
    }

    [Fact]
    public void Generation_stops_with_length_when_the_slot_is_full()
    {
        var parameters = new SamplingParameters { Seed = 1, MaxTokens = 100, IgnoreEos = true };

        GenerationResult result = SequenceGenerator.Generate(_harness.Model, 0, new[] { 1, 2, 3, 4, 5, 6 }, parameters, 299);

        Assert.Equal(FinishReason.Length, result.Finish);
        Assert.Equal(16 - 6 + 1, result.Tokens.Count);
    }

    [Fact]
    public void A_prompt_that_fills_the_slot_is_rejected_with_the_limit()
    {
        var error = Assert.Throws<FloverException>(() => SequenceGenerator.Generate(_harness.Model, 0, new int[16], new SamplingParameters(), 299));

        Assert.Contains("at most 15", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancellation_stops_before_the_next_token()
    {
        using var cancellation = new CancellationTokenSource();
        var parameters = new SamplingParameters { Seed = 1, MaxTokens = 10, IgnoreEos = true };

        GenerationResult result = SequenceGenerator.Generate(_harness.Model, 0, new[] { 1 }, parameters, 299, _ => cancellation.Cancel(), cancellation.Token);

        Assert.Equal(FinishReason.Cancelled, result.Finish);
        Assert.Single(result.Tokens);
    }
}
