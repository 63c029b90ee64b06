using Flover.Gpu.Sampling;

namespace Flover.Gpu.Tests.Sampling;

public sealed class RequestSamplerTests
{
    private const int Eos = 9;

    private static float[] LogitsOf(params double[] probabilities)
    {
        var logits = new float[10];
        Array.Fill(logits, float.NegativeInfinity);
        for (int i = 0; i < probabilities.Length; i++)
        {
            logits[i] = (float)Math.Log(probabilities[i]);
        }

        return logits;
    }

    private static float[] RandomLogits(int seed, int length = 10)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 6) - 3)).ToArray();
    }

    private static RequestSampler Sampler(SamplingParameters parameters, int vocabulary = 10, params int[] prompt) =>
        new(parameters with { MaxTokens = Math.Max(parameters.MaxTokens, 64) }, vocabulary, Eos, prompt);

    private static int First(SamplingParameters parameters, float[] logits) => Sampler(parameters, logits.Length).Sample(logits).TokenId;

    [Fact]
    public void Temperature_zero_is_greedy_and_takes_the_lower_index_on_ties()
    {
        float[] logits = [0.5f, 2f, -1f, 2f, 1f, 0f, 0f, 0f, 0f, 0f];

        Assert.Equal(1, First(new SamplingParameters { Temperature = 0 }, logits));
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    public void Ids_past_the_sampled_vocabulary_are_never_chosen_and_the_rest_sample_as_the_trimmed_row(float temperature)
    {
        // A model padded past its tokenizer: 10 real ids, then 6 padding ids with the largest logits.
        var parameters = new SamplingParameters { Temperature = temperature, Seed = 7, MaxTokens = 50, IgnoreEos = true, Logprobs = 3 };
        var padded = new RequestSampler(parameters, 10, Eos, []);
        var trimmed = new RequestSampler(parameters, 10, Eos, []);
        for (int i = 0; i < 40; i++)
        {
            float[] row = [.. RandomLogits(i), 50f, 60f, 70f, 80f, 90f, 99f];

            SampledToken fromPadded = padded.Sample(row);
            SampledToken fromTrimmed = trimmed.Sample(row.AsSpan(0, 10));

            Assert.InRange(fromPadded.TokenId, 0, 9);
            Assert.Equal(fromTrimmed.TokenId, fromPadded.TokenId);
            Assert.Equal(fromTrimmed.Logprob, fromPadded.Logprob);
            Assert.Equal(fromTrimmed.TopLogprobs, fromPadded.TopLogprobs);
        }
    }

    [Fact]
    public void A_row_narrower_than_the_sampled_vocabulary_is_refused()
    {
        var sampler = new RequestSampler(new SamplingParameters { Temperature = 0 }, 10, Eos, []);

        Assert.Equal("Expected at least 10 logits, got 9. (Parameter 'logits')", Assert.Throws<ArgumentException>(() => sampler.Sample(new float[9])).Message);
    }

    [Fact]
    public void The_same_seed_gives_the_same_tokens_whatever_ran_before_or_beside()
    {
        var parameters = new SamplingParameters { Seed = 99, MaxTokens = 20, IgnoreEos = true };
        var alone = new RequestSampler(parameters, 10, Eos, []);
        var beside = new RequestSampler(parameters with { Seed = 5 }, 10, Eos, []);
        var again = new RequestSampler(parameters, 10, Eos, []);
        var first = new List<int>();
        var second = new List<int>();
        for (int i = 0; i < 15; i++)
        {
            first.Add(alone.Sample(RandomLogits(i)).TokenId);
            beside.Sample(RandomLogits(100 + i));
            second.Add(again.Sample(RandomLogits(i)).TokenId);
        }

        Assert.Equal(first, second);
    }

    [Fact]
    public void Replaying_a_history_continues_with_the_draws_an_uninterrupted_run_makes()
    {
        var parameters = new SamplingParameters { Seed = 3, MaxTokens = 20, RepetitionPenalty = 1.3f, IgnoreEos = true };
        var uninterrupted = new RequestSampler(parameters, 10, Eos, [1, 2]);
        int[] tokens = Enumerable.Range(0, 8).Select(i => uninterrupted.Sample(RandomLogits(i)).TokenId).ToArray();
        var restarted = new RequestSampler(parameters, 10, Eos, [1, 2]);

        foreach (int token in tokens[..5])
        {
            restarted.Replay(token);
        }

        Assert.Equal(tokens[5..], Enumerable.Range(5, 3).Select(i => restarted.Sample(RandomLogits(i)).TokenId));
    }

    [Fact]
    public void Sampling_frequencies_follow_the_softmax()
    {
        float[] logits = LogitsOf(0.5, 0.3, 0.2);
        int[] counts = new int[10];
        for (ulong seed = 0; seed < 4000; seed++)
        {
            counts[First(new SamplingParameters { Seed = seed }, logits)]++;
        }

        Assert.InRange(counts[0], 1880, 2120);
        Assert.InRange(counts[1], 1100, 1300);
        Assert.InRange(counts[2], 700, 900);
        Assert.Equal(4000, counts[0] + counts[1] + counts[2]);
    }

    [Fact]
    public void Temperature_sharpens_the_distribution()
    {
        float[] logits = LogitsOf(0.5, 0.3, 0.2);
        int top = 0;
        for (ulong seed = 0; seed < 2000; seed++)
        {
            top += First(new SamplingParameters { Seed = seed, Temperature = 0.25f }, logits) == 0 ? 1 : 0;
        }

        // p0 at T = 0.25 is 0.5⁴ / (0.5⁴ + 0.3⁴ + 0.2⁴) ≈ 0.867.
        Assert.InRange(top, 1670, 1790);
    }

    [Fact]
    public void Top_k_only_draws_among_the_k_best_and_reaches_each_of_them()
    {
        float[] logits = RandomLogits(1, 300);
        HashSet<int> best = Enumerable.Range(0, 300).OrderByDescending(i => logits[i]).Take(5).ToHashSet();
        var drawn = new HashSet<int>();
        for (ulong seed = 0; seed < 500; seed++)
        {
            drawn.Add(Sampler(new SamplingParameters { Seed = seed, TopK = 5, Temperature = 3 }, 300).Sample(logits).TokenId);
        }

        Assert.Equal(best, drawn);
    }

    [Fact]
    public void Top_p_keeps_the_smallest_set_reaching_p()
    {
        float[] logits = LogitsOf(0.4, 0.3, 0.2, 0.1);
        var drawn = new HashSet<int>();
        for (ulong seed = 0; seed < 500; seed++)
        {
            drawn.Add(First(new SamplingParameters { Seed = seed, TopP = 0.65f }, logits));
        }

        Assert.Equal([0, 1], drawn.Order());
    }

    [Fact]
    public void Top_p_over_a_wide_flat_vocabulary_grows_its_candidates_beyond_the_first_batch()
    {
        // 1000 nearly equal logits: the 0.5 nucleus holds about 500 tokens, far more than the first 64 candidates.
        float[] logits = Enumerable.Range(0, 1000).Select(i => 1f - (i * 1e-4f)).ToArray();
        var drawn = new HashSet<int>();
        for (ulong seed = 0; seed < 2000; seed++)
        {
            drawn.Add(Sampler(new SamplingParameters { Seed = seed, TopP = 0.5f }, 1000).Sample(logits).TokenId);
        }

        Assert.True(drawn.Max() < 520, $"drew token {drawn.Max()} outside the nucleus");
        Assert.True(drawn.Max() > 400, $"never drew beyond token {drawn.Max()}");
    }

    [Fact]
    public void Top_p_after_top_k_uses_the_renormalised_top_k_mass()
    {
        // Top-2 of (0.4, 0.3, 0.2, 0.1) renormalised is (0.57, 0.43): p = 0.5 keeps only token 0.
        float[] logits = LogitsOf(0.4, 0.3, 0.2, 0.1);
        for (ulong seed = 0; seed < 200; seed++)
        {
            Assert.Equal(0, First(new SamplingParameters { Seed = seed, TopK = 2, TopP = 0.5f }, logits));
        }
    }

    [Fact]
    public void Repetition_penalty_divides_positive_logits_of_prompt_tokens()
    {
        float[] logits = [3f, 2.5f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f];
        var sampler = Sampler(new SamplingParameters { Temperature = 0, RepetitionPenalty = 1.5f }, 10, 0);

        Assert.Equal(1, sampler.Sample(logits).TokenId);
    }

    [Fact]
    public void Repetition_penalty_multiplies_negative_logits()
    {
        float[] logits = [-1f, -1.2f, -5f, -5f, -5f, -5f, -5f, -5f, -5f, -5f];
        var sampler = Sampler(new SamplingParameters { Temperature = 0, RepetitionPenalty = 1.5f }, 10, 0);

        Assert.Equal(1, sampler.Sample(logits).TokenId);
    }

    [Fact]
    public void Presence_penalty_lowers_tokens_already_generated_once_each()
    {
        float[] logits = [2f, 1.5f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f];
        var sampler = Sampler(new SamplingParameters { Temperature = 0, PresencePenalty = 0.6f });

        int[] tokens = Enumerable.Range(0, 3).Select(_ => sampler.Sample(logits).TokenId).ToArray();

        // Token 0 drops once to 1.4 (< 1.5) and stays there; token 1 then drops to 0.9.
        Assert.Equal([0, 1, 0], tokens);
    }

    [Fact]
    public void Frequency_penalty_grows_with_every_repetition()
    {
        float[] logits = [2f, 1.5f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f];
        var sampler = Sampler(new SamplingParameters { Temperature = 0, FrequencyPenalty = 0.3f });

        int[] tokens = Enumerable.Range(0, 4).Select(_ => sampler.Sample(logits).TokenId).ToArray();

        // Token 0: 2.0, then 1.7 (> 1.5), then 1.4 (< 1.5): token 1 takes over; then 1.2 < 1.4.
        Assert.Equal([0, 0, 1, 0], tokens);
    }

    [Fact]
    public void Logit_bias_can_ban_and_can_force_a_token()
    {
        float[] logits = [2f, 1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f];

        Assert.Equal(1, First(new SamplingParameters { Temperature = 0, LogitBias = new Dictionary<int, float> { [0] = float.NegativeInfinity } }, logits));
        Assert.Equal(7, First(new SamplingParameters { Seed = 4, LogitBias = new Dictionary<int, float> { [7] = 100f } }, logits));
    }

    [Fact]
    public void Banning_every_token_is_reported_as_a_user_error()
    {
        var bias = Enumerable.Range(0, 10).ToDictionary(i => i, _ => float.NegativeInfinity);

        var error = Assert.Throws<FloverException>(() => First(new SamplingParameters { LogitBias = bias }, new float[10]));
        Assert.Contains("banned", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_NaN_logit_is_reported_as_a_corrupt_model_naming_the_token()
    {
        float[] logits = RandomLogits(3, 300);
        logits[123] = float.NaN;

        var error = Assert.Throws<FloverException>(() => Sampler(new SamplingParameters(), 300).Sample(logits));
        Assert.Contains("NaN logit (token 123)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void End_of_sequence_is_suppressed_until_min_tokens_then_finishes_the_request()
    {
        float[] logits = new float[10];
        logits[Eos] = 5f;
        var sampler = new RequestSampler(new SamplingParameters { Temperature = 0, MinTokens = 2, MaxTokens = 10 }, 10, Eos, []);

        SampledToken[] tokens = [sampler.Sample(logits), sampler.Sample(logits), sampler.Sample(logits)];

        Assert.NotEqual(Eos, tokens[0].TokenId);
        Assert.Null(tokens[1].Finish);
        Assert.Equal(Eos, tokens[2].TokenId);
        Assert.Equal(FinishReason.Eos, tokens[2].Finish);
        Assert.Equal(FinishReason.Eos, sampler.Finish);
    }

    [Fact]
    public void Ignoring_end_of_sequence_keeps_going_until_max_tokens()
    {
        float[] logits = new float[10];
        logits[Eos] = 5f;
        var sampler = new RequestSampler(new SamplingParameters { Temperature = 0, MaxTokens = 3, IgnoreEos = true }, 10, Eos, []);

        SampledToken[] tokens = [sampler.Sample(logits), sampler.Sample(logits), sampler.Sample(logits)];

        Assert.All(tokens, t => Assert.Equal(Eos, t.TokenId));
        Assert.Equal([null, null, FinishReason.Length], tokens.Select(t => t.Finish));
        Assert.Throws<InvalidOperationException>(() => sampler.Sample(logits));
    }

    [Fact]
    public void Logprobs_are_the_natural_log_of_the_temperature_one_softmax_of_the_raw_logits()
    {
        float[] logits = RandomLogits(8);
        double normalizer = Math.Log(logits.Sum(l => Math.Exp(l)));
        int[] order = Enumerable.Range(0, 10).OrderByDescending(i => logits[i]).ToArray();
        var sampler = Sampler(new SamplingParameters { Temperature = 0.5f, RepetitionPenalty = 2f, Seed = 1, Logprobs = 3 }, 10, order[0]);

        SampledToken token = sampler.Sample(logits);

        Assert.Equal(logits[token.TokenId] - normalizer, token.Logprob!.Value, 5);
        Assert.Equal(order[..3], token.TopLogprobs!.Select(t => t.TokenId));
        Assert.All(token.TopLogprobs!, t => Assert.Equal(logits[t.TokenId] - normalizer, t.Logprob, 5));
    }

    [Fact]
    public void Without_logprobs_requested_none_are_reported()
    {
        SampledToken token = Sampler(new SamplingParameters()).Sample(RandomLogits(2));

        Assert.Null(token.Logprob);
        Assert.Null(token.TopLogprobs);
    }

    [Theory]
    [InlineData("temperature", -1f, 0, 1f, 16)]
    [InlineData("top-k", 1f, -2, 1f, 16)]
    [InlineData("top-p", 1f, 0, 0f, 16)]
    [InlineData("max-tokens", 1f, 0, 1f, 0)]
    public void Out_of_range_parameters_are_rejected_naming_the_parameter(string name, float temperature, int topK, float topP, int maxTokens)
    {
        var parameters = new SamplingParameters { Temperature = temperature, TopK = topK, TopP = topP, MaxTokens = maxTokens };

        var error = Assert.Throws<FloverException>(() => new RequestSampler(parameters, 10, Eos, []));
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Logit_bias_outside_the_vocabulary_is_rejected_naming_the_token()
    {
        var parameters = new SamplingParameters { LogitBias = new Dictionary<int, float> { [10] = 1f } };

        var error = Assert.Throws<FloverException>(() => new RequestSampler(parameters, 10, Eos, []));
        Assert.Contains("token 10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_several_end_of_sequence_ids_any_ends_the_request_and_min_tokens_holds_back_all()
    {
        float[] logits = [0, 0, 0, 0, 0, 0, 0, 5, 1, 4];
        var parameters = new SamplingParameters { Temperature = 0, MaxTokens = 10, MinTokens = 1 };

        var sampler = new RequestSampler(parameters, 10, [Eos, 7], []);

        Assert.Equal(8, sampler.Sample(logits).TokenId); // 7 and 9 are held back for the first token
        Assert.Null(sampler.Finish);
        Assert.Equal(7, sampler.Sample(logits).TokenId);
        Assert.Equal(FinishReason.Eos, sampler.Finish);
        var ignoring = new RequestSampler(parameters with { IgnoreEos = true }, 10, [Eos, 7], []);
        ignoring.Sample(logits);
        Assert.Equal(7, ignoring.Sample(logits).TokenId);
        Assert.Null(ignoring.Finish);
    }
}
