namespace Flover.Gpu.Sampling;

/// <summary>How one request's tokens are chosen from the model's logits.</summary>
public sealed record SamplingParameters
{
    /// <summary>Divides the logits; 0 means greedy (the most likely token). Default 1.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep only the K most likely tokens; 0 turns it off. Default 0.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of most likely tokens whose probability reaches P (nucleus); 1 turns it off. Default 1.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>CTRL-style penalty for every token already in the prompt or output: positive logits divided by it, negative ones multiplied. 1 turns it off.</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>Subtracted once from the logit of every token already generated (OpenAI's presence penalty).</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Subtracted from a token's logit once per time it was generated (OpenAI's frequency penalty).</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Added to the logits of the given token ids (−∞ bans a token).</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>End-of-sequence is suppressed until this many tokens have been generated.</summary>
    public int MinTokens { get; init; }

    /// <summary>Stop after this many generated tokens (<see cref="FinishReason.Length"/>). Default 16.</summary>
    public int MaxTokens { get; init; } = 16;

    /// <summary>Keep generating after end-of-sequence (benchmarks).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>The random stream: draw i of the request is a function of (Seed, i) alone.</summary>
    public ulong Seed { get; init; }

    /// <summary>Report the chosen token's log-probability and this many top alternatives; null reports nothing.</summary>
    public int? Logprobs { get; init; }

    /// <summary>Checks every value, naming the first bad one.</summary>
    /// <exception cref="FloverException">A value is out of range.</exception>
    public void Validate(int vocabularySize)
    {
        if (FindProblem(vocabularySize) is { } problem)
        {
            throw new FloverException("Invalid sampling parameter: " + problem.Message);
        }
    }

    /// <summary>
    /// The first parameter that is out of range for a model of <paramref name="vocabularySize"/>
    /// tokens, naming the field (as the HTTP API and the actor protocol spell it) and its value; null
    /// when every parameter is valid.
    /// </summary>
    public SamplingProblem? FindProblem(int vocabularySize)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        if (!(float.IsFinite(Temperature) && Temperature >= 0))
        {
            return new("temperature", Temperature.ToString(culture), $"temperature must be a finite number ≥ 0, not {Temperature.ToString(culture)}.");
        }

        if (TopK < 0)
        {
            return new("top_k", TopK.ToString(culture), $"top-k must be ≥ 0 (0 turns it off), not {TopK}.");
        }

        if (!(TopP > 0 && TopP <= 1))
        {
            return new("top_p", TopP.ToString(culture), $"top-p must lie in (0, 1], not {TopP.ToString(culture)}.");
        }

        if (!(float.IsFinite(RepetitionPenalty) && RepetitionPenalty > 0))
        {
            return new("repetition_penalty", RepetitionPenalty.ToString(culture), $"repetition penalty must be a finite number > 0, not {RepetitionPenalty.ToString(culture)}.");
        }

        if (!float.IsFinite(PresencePenalty))
        {
            return new("presence_penalty", PresencePenalty.ToString(culture), $"presence penalty must be finite, not {PresencePenalty.ToString(culture)}.");
        }

        if (!float.IsFinite(FrequencyPenalty))
        {
            return new("frequency_penalty", FrequencyPenalty.ToString(culture), $"frequency penalty must be finite, not {FrequencyPenalty.ToString(culture)}.");
        }

        if (MinTokens < 0)
        {
            return new("min_tokens", MinTokens.ToString(culture), $"min-tokens must be ≥ 0, not {MinTokens}.");
        }

        if (MaxTokens < 1)
        {
            return new("max_tokens", MaxTokens.ToString(culture), $"max-tokens must be ≥ 1, not {MaxTokens}.");
        }

        if (MinTokens > MaxTokens)
        {
            return new("min_tokens", MinTokens.ToString(culture), $"min-tokens ({MinTokens}) must not exceed max-tokens ({MaxTokens}).");
        }

        if (Logprobs is not (null or (>= 0 and <= 20)))
        {
            return new("logprobs", Logprobs.Value.ToString(culture), $"logprobs must lie in 0..20, not {Logprobs}.");
        }

        foreach ((int token, float bias) in LogitBias ?? new Dictionary<int, float>())
        {
            if ((uint)token >= (uint)vocabularySize)
            {
                return new("logit_bias", token.ToString(culture), $"logit bias names token {token}, outside the vocabulary of {vocabularySize}.");
            }

            if (float.IsNaN(bias) || float.IsPositiveInfinity(bias))
            {
                return new("logit_bias", bias.ToString(culture), $"logit bias of token {token} must be a number or −∞, not {bias.ToString(culture)}.");
            }
        }

        return null;
    }
}

/// <summary>A sampling parameter out of range.</summary>
/// <param name="Field">The field, as the API spells it (<c>top_p</c>).</param>
/// <param name="Value">Its value as given.</param>
/// <param name="Message">The problem in words, one line.</param>
public sealed record SamplingProblem(string Field, string Value, string Message);
