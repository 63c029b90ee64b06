using Flover.Gpu.Models;

namespace Flover.Gpu.Sampling;

/// <summary>
/// Generates one request's tokens on a model, alone: prefill the prompt into a slot, then sample and
/// decode until the sampler finishes the request or the slot is full. What <c>flover generate</c> and the
/// sequential baseline run; the decode loop does the same for many requests at once.
/// </summary>
public static class SequenceGenerator
{
    /// <summary>Runs the request to completion.</summary>
    /// <param name="model">The model; its slot <paramref name="slot"/> is overwritten.</param>
    /// <param name="slot">The KV slot to use.</param>
    /// <param name="prompt">The prompt's token ids (at least one).</param>
    /// <param name="parameters">How to sample.</param>
    /// <param name="eosTokenId">The model's end-of-sequence token.</param>
    /// <param name="onToken">Called with each token as soon as it is chosen (streaming); may be null.</param>
    /// <param name="cancellation">Stops generation between tokens with <see cref="FinishReason.Cancelled"/>.</param>
    /// <exception cref="FloverException">The prompt is empty or does not leave room for a token in the slot, or a parameter is invalid.</exception>
    public static GenerationResult Generate(
        IModel model,
        int slot,
        ReadOnlyMemory<int> prompt,
        SamplingParameters parameters,
        int eosTokenId,
        Action<SampledToken>? onToken = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(parameters);
        if (prompt.IsEmpty)
        {
            throw new FloverException("The prompt is empty: give at least one token.");
        }

        if (prompt.Length >= model.SlotCapacity)
        {
            throw new FloverException($"The prompt has {prompt.Length} {(prompt.Length == 1 ? "token" : "tokens")}; the model holds {model.SlotCapacity} positions, so at most {model.SlotCapacity - 1} leave room to generate.");
        }

        var sampler = new RequestSampler(parameters, model.VocabularySize, eosTokenId, prompt.Span);
        var tokens = new List<SampledToken>();
        // Every token is chosen where the logits are (RequestSampler.NextRow): only its id comes back.
        ModelLogits logits = model.Prefill([new PrefillPrompt(slot, prompt, 0, LogitsSelection.Last, sampler.DeviceSampling())]);
        int position = prompt.Length;
        while (true)
        {
            if (cancellation.IsCancellationRequested)
            {
                return new GenerationResult(tokens, FinishReason.Cancelled);
            }

            SampledToken token = sampler.Accept(logits, 0);
            tokens.Add(token);
            onToken?.Invoke(token);
            if (token.Finish is FinishReason finish)
            {
                return new GenerationResult(tokens, finish);
            }

            if (position == model.SlotCapacity)
            {
                // The sequence fills its slot: nothing more can be attended to.
                return new GenerationResult(tokens, FinishReason.Length);
            }

            logits = model.Decode([sampler.NextRow(slot, position++, token.TokenId)]);
        }
    }
}

/// <summary>The tokens one request generated and why it stopped.</summary>
/// <param name="Tokens">Every chosen token in order (an end-of-sequence token that finished the request included).</param>
/// <param name="Finish">Why generation stopped.</param>
public sealed record GenerationResult(IReadOnlyList<SampledToken> Tokens, FinishReason Finish);
