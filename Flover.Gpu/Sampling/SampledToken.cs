namespace Flover.Gpu.Sampling;

/// <summary>One chosen token.</summary>
/// <param name="TokenId">The token.</param>
/// <param name="Logprob">Its natural-log probability under the model's softmax at temperature 1 (null unless logprobs were asked for).</param>
/// <param name="TopLogprobs">The most likely tokens and their log-probabilities, best first (null unless logprobs were asked for).</param>
/// <param name="Finish">Why the request stops after this token, or null to go on.</param>
public sealed record SampledToken(int TokenId, float? Logprob, IReadOnlyList<TokenLogprob>? TopLogprobs, FinishReason? Finish);

/// <summary>A token and its natural-log probability.</summary>
/// <param name="TokenId">The token.</param>
/// <param name="Logprob">ln p(token) under the model's softmax at temperature 1.</param>
public readonly record struct TokenLogprob(int TokenId, float Logprob);
