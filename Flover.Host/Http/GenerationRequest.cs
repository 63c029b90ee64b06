using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Host.Http;

/// <summary>
/// A validated request of either endpoint, ready for the engine: the prompt as ids, the sampling,
/// stop sequences and how the answer is to be written.
/// </summary>
/// <param name="PromptIds">The prompt (never empty; every id in the vocabulary).</param>
/// <param name="Sampling">Sampling, including max tokens and the logprobs count.</param>
/// <param name="Stops">Stop sequences (at most 4, none empty).</param>
/// <param name="Stream">Answer with Server-Sent Events.</param>
/// <param name="IncludeUsage">Streaming: send a usage chunk before <c>[DONE]</c>.</param>
/// <param name="Echo">Completions: the prompt text that precedes the completion (<c>echo</c>), or empty.</param>
internal sealed record GenerationRequest(
    int[] PromptIds,
    SamplingParameters Sampling,
    IReadOnlyList<string> Stops,
    bool Stream,
    bool IncludeUsage,
    string Echo = "")
{
    /// <summary>Whether per-token logprobs go in the answer.</summary>
    public bool WantsLogprobs => Sampling.Logprobs is not null;

    /// <summary>The engine's message for this request, with its deadline.</summary>
    public Generate ToGenerate(DateTimeOffset now, TimeSpan timeout) =>
        new(PromptIds, Sampling, Stops.Count == 0 ? null : Stops, now + timeout);
}
