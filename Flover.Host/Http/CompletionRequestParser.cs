using System.Text.Json;
using Flover.Gpu.Tokenization;

namespace Flover.Host.Http;

/// <summary>Validates a <c>POST /v1/completions</c> body (docs/HTTP.md lists every field).</summary>
internal static class CompletionRequestParser
{
    /// <summary>OpenAI's limit on <c>logprobs</c> for completions.</summary>
    public const int MaxLogprobs = 5;

    /// <exception cref="ApiException">The first problem found, naming its field.</exception>
    public static GenerationRequest Parse(JsonElement body, ServedModel model)
    {
        var fields = new JsonFields(body);
        SamplingFields.CheckModel(fields, model);
        int[] prompt = Prompt(fields, model);
        int maxTokens = SamplingFields.MaxTokens(fields, ["max_tokens"], prompt.Length, "prompt", model, defaultValue: 16);
        int? logprobs = (int?)fields.Integer("logprobs", min: 0, max: MaxLogprobs);
        bool echo = fields.Bool("echo") ?? false;
        if (echo && logprobs is not null)
        {
            // Prompt logprobs need the logits at every prompt position; the engine keeps only the last.
            throw ApiException.Invalid("echo", "'echo' together with 'logprobs' is not supported: the engine does not compute the prompt's logprobs.");
        }

        SamplingFields.CheckChoicesAndUser(fields);
        _ = fields.Integer("best_of", min: 1, max: 1, range: "1 (one candidate per request)");
        (bool stream, bool includeUsage) = SamplingFields.Streaming(fields);
        return new GenerationRequest(
            prompt,
            SamplingFields.Sampling(fields, model, maxTokens, logprobs),
            SamplingFields.Stops(fields),
            stream,
            includeUsage,
            echo ? model.Tokenizer.Decode(prompt) : string.Empty);
    }

    /// <summary><c>prompt</c>: a non-empty string or a non-empty array of token ids in the vocabulary.</summary>
    private static int[] Prompt(JsonFields fields, ServedModel model)
    {
        JsonElement? prompt = fields.Get("prompt");
        if (prompt is null)
        {
            throw ApiException.Invalid("prompt", "'prompt' is required: a string or an array of token ids.");
        }

        if (prompt.Value.ValueKind == JsonValueKind.String)
        {
            string text = prompt.Value.GetString()!;
            return text.Length > 0
                ? model.Tokenizer.EncodePrompt(text)
                : throw ApiException.Invalid("prompt", "'prompt' must not be empty.");
        }

        if (prompt.Value.ValueKind != JsonValueKind.Array)
        {
            throw fields.WrongType("prompt", "a string or an array of token ids", prompt.Value);
        }

        int length = prompt.Value.GetArrayLength();
        if (length == 0)
        {
            throw ApiException.Invalid("prompt", "'prompt' must not be empty.");
        }

        var ids = new int[length];
        int i = 0;
        foreach (JsonElement item in prompt.Value.EnumerateArray())
        {
            string path = $"prompt[{i}]";
            if (item.ValueKind is JsonValueKind.String or JsonValueKind.Array)
            {
                throw ApiException.Invalid("prompt", "'prompt' must be one prompt (a string or an array of token ids); batches of prompts are not supported.");
            }

            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long id))
            {
                throw ApiException.Invalid(path, $"'{path}' must be a token id (an integer), not {JsonFields.Describe(item)}.");
            }

            ids[i++] = id >= 0 && id < model.VocabularySize
                ? (int)id
                : throw ApiException.Invalid(path, $"'{path}' is {id}, outside the vocabulary: token ids run from 0 to {model.VocabularySize - 1}.");
        }

        return ids;
    }
}
