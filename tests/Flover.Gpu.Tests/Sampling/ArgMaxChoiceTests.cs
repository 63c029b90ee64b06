using Flover.Gpu.Sampling;

namespace Flover.Gpu.Tests.Sampling;

/// <summary>When a request's token may be chosen on the device, and how the sampler records that choice.</summary>
public sealed class ArgMaxChoiceTests
{
    private const int Vocabulary = 50;
    private const int Eos = 7;

    public static TheoryData<string, SamplingParameters> HostOnly => new()
    {
        { "temperature", new SamplingParameters { Temperature = 0.5f } },
        { "repetition penalty", new SamplingParameters { Temperature = 0, RepetitionPenalty = 1.2f } },
        { "presence penalty", new SamplingParameters { Temperature = 0, PresencePenalty = 0.5f } },
        { "frequency penalty", new SamplingParameters { Temperature = 0, FrequencyPenalty = -0.5f } },
        { "logit bias", new SamplingParameters { Temperature = 0, LogitBias = new Dictionary<int, float> { [3] = 2f } } },
        { "logprobs", new SamplingParameters { Temperature = 0, Logprobs = 0 } },
    };

    [Theory]
    [MemberData(nameof(HostOnly))]
    public void Anything_but_the_plain_arg_max_is_sampled_on_the_device_with_the_logprobs_it_asks_for(string why, SamplingParameters parameters)
    {
        var sampler = new RequestSampler(parameters, Vocabulary, Eos, []);

        Assert.False(sampler.ChoosesByArgMax, why);
        Assert.Equal(0, sampler.ArgMaxCandidates);
        RowSampling sampling = sampler.DeviceSampling()!;
        Assert.Equal(Vocabulary, sampling.Candidates);
        Assert.Equal(parameters.Logprobs ?? -1, sampling.Logprobs);
        Assert.Equal(Vocabulary, sampler.NextRow(1, 2, 3).ChooseAmong);
        Assert.NotNull(sampler.NextRow(1, 2, 3).Sampling);
        if (parameters.Logprobs is not null)
        {
            // Its logprobs come with the choice in the logits (Accept), never without them.
            Assert.Throws<InvalidOperationException>(() => sampler.AcceptChoice(3));
            return;
        }

        Assert.Equal(new SampledToken(3, null, null, null), sampler.AcceptChoice(3));
    }

    [Fact]
    public void A_greedy_request_is_chosen_on_the_device_among_its_vocabulary_and_finishes_as_sampling_would()
    {
        var sampler = new RequestSampler(new SamplingParameters { Temperature = 0, MaxTokens = 2, LogitBias = new Dictionary<int, float>() }, Vocabulary, Eos, []);

        Assert.Equal(Vocabulary, sampler.ArgMaxCandidates);
        Assert.Equal(new SampledToken(12, null, null, null), sampler.AcceptChoice(12));
        Assert.Equal(new SampledToken(Eos, null, null, FinishReason.Eos), sampler.AcceptChoice(Eos));
        Assert.False(sampler.ChoosesByArgMax);
        Assert.Throws<InvalidOperationException>(() => sampler.AcceptChoice(1));
    }

    [Fact]
    public void Min_tokens_keeps_the_choice_off_the_plain_arg_max_while_end_of_sequence_is_banned()
    {
        var sampler = new RequestSampler(new SamplingParameters { Temperature = 0, MinTokens = 1 }, Vocabulary, Eos, []);
        Assert.False(sampler.ChoosesByArgMax);

        float[] logits = new float[Vocabulary];
        logits[Eos] = 5f;
        logits[4] = 1f;
        Assert.Equal(4, sampler.Sample(logits).TokenId);

        Assert.True(sampler.ChoosesByArgMax);
    }

    [Fact]
    public void The_devices_nan_and_ban_marks_are_the_samplers_errors()
    {
        var sampler = new RequestSampler(new SamplingParameters { Temperature = 0 }, Vocabulary, Eos, []);

        Assert.Contains("NaN logit (token 9)", Assert.Throws<FloverException>(() => sampler.AcceptChoice(-2 - 9)).Message, StringComparison.Ordinal);
        Assert.Contains("Every token is banned", Assert.Throws<FloverException>(() => sampler.AcceptChoice(-1)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.AcceptChoice(Vocabulary));
        Assert.Equal(0, sampler.GeneratedCount);
    }
}
