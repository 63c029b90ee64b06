namespace Flover.Gpu.Sampling;

/// <summary>Log-probabilities under the model's own distribution.</summary>
public sealed partial class RequestSampler
{
    /// <summary>
    /// ln softmax(logits) at temperature 1 of the chosen token and the <paramref name="alternatives"/> most
    /// likely tokens, computed from the raw logits (before penalties, bias and temperature), in double.
    /// </summary>
    private static (float Chosen, TokenLogprob[] Top) Logprobs(ReadOnlySpan<float> logits, int token, int alternatives)
    {
        float max = float.NegativeInfinity;
        foreach (float value in logits)
        {
            max = MathF.Max(max, value);
        }

        double sum = 0;
        foreach (float value in logits)
        {
            sum += Math.Exp((double)value - max);
        }

        double logNormalizer = max + Math.Log(sum);
        var top = new TokenLogprob[Math.Min(alternatives, logits.Length)];
        if (top.Length > 0)
        {
            Span<int> best = stackalloc int[top.Length];
            TopSelection.Select(logits, top.Length, best);
            for (int i = 0; i < top.Length; i++)
            {
                top[i] = new TokenLogprob(best[i], (float)(logits[best[i]] - logNormalizer));
            }
        }

        return ((float)(logits[token] - logNormalizer), top);
    }
}
