namespace Flover.Gpu.Sampling;

/// <summary>The logit processors and the choice of a token.</summary>
public sealed partial class RequestSampler
{
    /// <summary>Penalties (repetition, then presence and frequency), then logit bias, then the min-tokens ban of end-of-sequence.</summary>
    private void Process(Span<float> values)
    {
        float repetition = _parameters.RepetitionPenalty;
        if (repetition != 1f)
        {
            foreach (int token in _seen)
            {
                if ((uint)token < (uint)values.Length)
                {
                    float value = values[token];
                    values[token] = value > 0 ? value / repetition : value * repetition;
                }
            }
        }

        if (_parameters.PresencePenalty != 0f || _parameters.FrequencyPenalty != 0f)
        {
            foreach ((int token, int count) in _generatedCounts)
            {
                values[token] -= _parameters.PresencePenalty + (_parameters.FrequencyPenalty * count);
            }
        }

        if (_parameters.LogitBias is { } bias)
        {
            foreach ((int token, float value) in bias)
            {
                values[token] += value;
            }
        }

        if (GeneratedCount < _parameters.MinTokens && !_parameters.IgnoreEos)
        {
            foreach (int eos in _eosTokenIds)
            {
                if ((uint)eos < (uint)values.Length)
                {
                    values[eos] = float.NegativeInfinity;
                }
            }
        }
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return float.IsNegativeInfinity(values[best]) ? throw AllBanned() : best;
    }

    /// <summary>Temperature, then top-k, then top-p over the survivors, then the inverse-CDF pick of <paramref name="draw"/>.</summary>
    private static int Draw(Span<float> values, double draw, float temperature, int topK, float topP)
    {
        float max = values[ArgMax(values)];
        float inverseTemperature = 1f / temperature;
        if (topK == 0 && topP >= 1f)
        {
            // Plain sampling: weights in place, cumulative in index order; no selection at all.
            double total = 0;
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = MathF.Exp((values[i] - max) * inverseTemperature);
                total += values[i];
            }

            return Pick(values, null, values.Length, draw * total);
        }

        int k = topK > 0 ? Math.Min(topK, values.Length) : Math.Min(InitialNucleusCandidates, values.Length);
        Span<int> candidates = Scratch(ref t_indices, values.Length);
        int count = TopSelection.Select(values, k, candidates);
        double normalizer;
        if (topK > 0)
        {
            // Top-p after top-k works on the renormalised top-k distribution. Only the candidates'
            // weights are computed (in place); nothing else is read from here on.
            foreach (int token in candidates[..count])
            {
                values[token] = MathF.Exp((values[token] - max) * inverseTemperature);
            }

            normalizer = SumOf(values, candidates[..count]);
        }
        else
        {
            normalizer = 0;
            for (int i = 0; i < values.Length; i++)
            {
                normalizer += MathF.Exp((values[i] - max) * inverseTemperature);
            }

            // Grow the candidate set until it holds the nucleus: usually a few dozen tokens suffice.
            while (count < values.Length && CumulativeOf(values, candidates[..count], max, inverseTemperature) < topP * normalizer)
            {
                count = TopSelection.Select(values, Math.Min(count * 4, values.Length), candidates);
            }

            foreach (int token in candidates[..count])
            {
                values[token] = MathF.Exp((values[token] - max) * inverseTemperature);
            }
        }

        int kept = count;
        if (topP < 1f)
        {
            double cumulative = 0;
            double threshold = topP * normalizer;
            for (int i = 0; i < count; i++)
            {
                cumulative += values[candidates[i]];
                if (cumulative >= threshold)
                {
                    kept = i + 1;
                    break;
                }
            }
        }

        double mass = SumOf(values, candidates[..kept]);
        return Pick(values, candidates, kept, draw * mass);
    }

    /// <summary>The first token (in candidate order, or index order) whose cumulative weight exceeds <paramref name="target"/>.</summary>
    private static int Pick(ReadOnlySpan<float> weights, ReadOnlySpan<int> order, int count, double target)
    {
        bool indexOrder = order.IsEmpty;
        double cumulative = 0;
        int lastPositive = -1;
        for (int i = 0; i < count; i++)
        {
            int token = indexOrder ? i : order[i];
            float weight = weights[token];
            if (weight <= 0)
            {
                continue;
            }

            cumulative += weight;
            lastPositive = token;
            if (cumulative > target)
            {
                return token;
            }
        }

        // Only rounding can leave the target unreached: the last token with any weight takes it.
        return lastPositive >= 0 ? lastPositive : throw AllBanned();
    }

    private static double SumOf(ReadOnlySpan<float> weights, ReadOnlySpan<int> tokens)
    {
        double sum = 0;
        foreach (int token in tokens)
        {
            sum += weights[token];
        }

        return sum;
    }

    private static double CumulativeOf(ReadOnlySpan<float> logits, ReadOnlySpan<int> tokens, float max, float inverseTemperature)
    {
        double sum = 0;
        foreach (int token in tokens)
        {
            sum += MathF.Exp((logits[token] - max) * inverseTemperature);
        }

        return sum;
    }

    private static FloverException AllBanned() => new("Every token is banned (logit bias of −∞ on the whole vocabulary): nothing can be sampled.");
}
