using System.Security.Cryptography;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;
using Flover.Host.Http;
using Microsoft.Extensions.AI;

namespace Flover.Host.Embedding;

/// <summary>Messages and options to the engine's <see cref="Generate"/>, with the HTTP chat endpoint's template and defaults.</summary>
public sealed partial class FloverChatClient
{
    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> key of a boolean that keeps generating after end of sequence (the HTTP API's <c>ignore_eos</c>).</summary>
    public const string IgnoreEosProperty = "ignore_eos";

    private Generate ToGenerate(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var turns = new List<(string Role, string Content)>();
        foreach (ChatMessage message in messages)
        {
            string role = message.Role.Value;
            if (!ChatTemplate.Roles.ContainsKey(role))
            {
                throw new ArgumentException($"Flover's chat template has no role '{role}' (system, developer, user, assistant).", nameof(messages));
            }

            turns.Add((role, message.Text));
        }

        if (turns.Count == 0)
        {
            throw new ArgumentException("Give at least one message.", nameof(messages));
        }

        int[] prompt = _model.Tokenizer.Encode(ChatTemplate.Render(turns));
        int room = _model.ContextLength - prompt.Length;
        if (room < 1)
        {
            throw new ArgumentException($"The conversation is {prompt.Length} tokens; the model's context holds {_model.ContextLength}.", nameof(messages));
        }

        int maxTokens = options?.MaxOutputTokens ?? room;
        if (maxTokens < 1 || maxTokens > room)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxOutputTokens must be from 1 to {room} (the context left after the prompt), not {maxTokens}.");
        }

        var sampling = new SamplingParameters
        {
            MaxTokens = maxTokens,
            Temperature = options?.Temperature ?? 1f,
            TopP = options?.TopP ?? 1f,
            TopK = options?.TopK ?? 0,
            PresencePenalty = options?.PresencePenalty ?? 0f,
            FrequencyPenalty = options?.FrequencyPenalty ?? 0f,
            Seed = options?.Seed is long seed ? unchecked((ulong)seed) : BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)),
            // Flover's own option, as in the HTTP API: keep generating after end of sequence.
            IgnoreEos = options?.AdditionalProperties?.TryGetValue(IgnoreEosProperty, out bool ignore) == true && ignore,
        };
        IList<string>? stops = options?.StopSequences;
        return new Generate(prompt, sampling, stops is { Count: > 0 } ? [.. stops] : null);
    }
}
