namespace Flover.Gpu.Sampling;

/// <summary>
/// How one request's next token is sampled where its logits are (<see cref="Accelerators.Accelerator.SampleRows"/>):
/// the request's logit edits, then <see cref="RequestSampler"/>'s choice (greedy at temperature 0, else
/// temperature, top-k, top-p and the inverse-CDF pick of <paramref name="Draw"/>), so only the id crosses to the host.
/// </summary>
/// <param name="Candidates">The ids that may be chosen: a row's first this many.</param>
/// <param name="Temperature">The temperature (0: greedy).</param>
/// <param name="TopK">Top-k (0: off).</param>
/// <param name="TopP">Top-p (1: off).</param>
/// <param name="Draw">The request's counter-based draw for this token, <see cref="CounterRandom.Uniform"/>(seed, i).</param>
/// <param name="Edits">The penalties, logit bias and min-tokens ban, at most one edit per token.</param>
/// <param name="Logprobs">
/// −1 (the default): no log-probabilities. 0..<see cref="MaxTopLogprobs"/>: the chosen token's log-probability and
/// this many top alternatives, under the raw logits' softmax, as <see cref="RequestSampler.Sample"/> reports them.
/// </param>
public sealed record RowSampling(int Candidates, float Temperature, int TopK, float TopP, double Draw, ReadOnlyMemory<LogitEdit> Edits, int Logprobs = -1)
{
    /// <summary>The most top alternatives a row reports (the API's limit).</summary>
    public const int MaxTopLogprobs = 20;

    /// <summary>Floats of a row's log-probabilities in <see cref="Accelerators.Accelerator.SampleRows"/>' output: the chosen token's, then the top alternatives'.</summary>
    public const int LogprobsPerRow = MaxTopLogprobs + 1;
}
