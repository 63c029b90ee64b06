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
        Require(float.IsFinite(Temperature) && Temperature >= 0, $"temperature must be a finite number ≥ 0, not {Temperature}.");
        Require(TopK >= 0, $"top-k must be ≥ 0 (0 turns it off), not {TopK}.");
        Require(TopP > 0 && TopP <= 1, $"top-p must lie in (0, 1], not {TopP}.");
        Require(float.IsFinite(RepetitionPenalty) && RepetitionPenalty > 0, $"repetition penalty must be a finite number > 0, not {RepetitionPenalty}.");
        Require(float.IsFinite(PresencePenalty), $"presence penalty must be finite, not {PresencePenalty}.");
        Require(float.IsFinite(FrequencyPenalty), $"frequency penalty must be finite, not {FrequencyPenalty}.");
        Require(MinTokens >= 0, $"min-tokens must be ≥ 0, not {MinTokens}.");
        Require(MaxTokens >= 1, $"max-tokens must be ≥ 1, not {MaxTokens}.");
        Require(MinTokens <= MaxTokens, $"min-tokens ({MinTokens}) must not exceed max-tokens ({MaxTokens}).");
        Require(Logprobs is null or (>= 0 and <= 20), $"logprobs must lie in 0..20, not {Logprobs}.");
        if (LogitBias is not null)
        {
            foreach ((int token, float bias) in LogitBias)
            {
                Require((uint)token < (uint)vocabularySize, $"logit bias names token {token}, outside the vocabulary of {vocabularySize}.");
                Require(!float.IsNaN(bias) && !float.IsPositiveInfinity(bias), $"logit bias of token {token} must be a number or −∞, not {bias}.");
            }
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new FloverException("Invalid sampling parameter: " + message);
        }
    }
}
