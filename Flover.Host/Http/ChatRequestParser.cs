using System.Text;
using System.Text.Json;

namespace Flover.Host.Http;

/// <summary>Validates a <c>POST /v1/chat/completions</c> body and renders its messages with the model's <see cref="ChatTemplate"/>.</summary>
internal static class ChatRequestParser
{
    /// <summary>OpenAI's limit on <c>top_logprobs</c>.</summary>
    public const int MaxTopLogprobs = 20;

    /// <exception cref="ApiException">The first problem found, naming its field.</exception>
    public static GenerationRequest Parse(JsonElement body, ServedModel model)
    {
        var fields = new JsonFields(body);
        SamplingFields.CheckModel(fields, model);
        ChatTemplate template = model.Chat ?? ChatTemplate.Plain;
        int[] prompt = template.Encode(Messages(fields, template), model.Tokenizer);
        // No max_tokens: as OpenAI, generate until the end of sequence or the end of the context.
        int maxTokens = SamplingFields.MaxTokens(fields, ["max_completion_tokens", "max_tokens"], prompt.Length, "messages", model, defaultValue: null);
        bool logprobs = fields.Bool("logprobs") ?? false;
        int? top = (int?)fields.Integer("top_logprobs", min: 0, max: MaxTopLogprobs);
        if (top is not null && !logprobs)
        {
            throw ApiException.Invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true.");
        }

        CheckResponseFormat(fields);
        SamplingFields.CheckChoicesAndUser(fields);
        (bool stream, bool includeUsage) = SamplingFields.Streaming(fields);
        return new GenerationRequest(
            prompt,
            SamplingFields.Sampling(fields, model, maxTokens, logprobs ? top ?? 0 : null),
            SamplingFields.Stops(fields),
            stream,
            includeUsage);
    }

    private static List<(string Role, string Content)> Messages(JsonFields fields, ChatTemplate template)
    {
        JsonElement? messages = fields.Get("messages");
        if (messages is null)
        {
            throw ApiException.Invalid("messages", "'messages' is required: an array of {role, content} objects.");
        }

        if (messages.Value.ValueKind != JsonValueKind.Array)
        {
            throw fields.WrongType("messages", "an array", messages.Value);
        }

        if (messages.Value.GetArrayLength() == 0)
        {
            throw ApiException.Invalid("messages", "'messages' must hold at least one message.");
        }

        var result = new List<(string, string)>();
        int i = 0;
        foreach (JsonElement message in messages.Value.EnumerateArray())
        {
            string path = $"messages[{i++}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw ApiException.Invalid(path, $"'{path}' must be an object with 'role' and 'content', not {JsonFields.Describe(message)}.");
            }

            var item = new JsonFields(message, path);
            string role = item.String("role") ?? throw ApiException.Invalid(item.PathOf("role"), $"'{item.PathOf("role")}' is required.");
            // A model's own template checks roles itself (raise_exception); the plain one knows four.
            if (!template.IsModelTemplate && !ChatTemplate.Roles.ContainsKey(role))
            {
                throw ApiException.Invalid(item.PathOf("role"), $"'{item.PathOf("role")}' is '{role}'; the roles are system, developer, user and assistant.");
            }

            result.Add((role, Content(item)));
        }

        return result;
    }

    /// <summary><c>content</c>: a string, or an array of <c>{"type":"text","text":...}</c> parts joined.</summary>
    private static string Content(JsonFields message)
    {
        string path = message.PathOf("content");
        JsonElement? content = message.Get("content");
        if (content is null)
        {
            throw ApiException.Invalid(path, $"'{path}' is required.");
        }

        if (content.Value.ValueKind == JsonValueKind.String)
        {
            return content.Value.GetString()!;
        }

        if (content.Value.ValueKind != JsonValueKind.Array)
        {
            throw message.WrongType("content", "a string or an array of text parts", content.Value);
        }

        var text = new StringBuilder();
        int i = 0;
        foreach (JsonElement part in content.Value.EnumerateArray())
        {
            string partPath = $"{path}[{i++}]";
            if (part.ValueKind != JsonValueKind.Object)
            {
                throw ApiException.Invalid(partPath, $"'{partPath}' must be an object {{\"type\":\"text\",\"text\":...}}, not {JsonFields.Describe(part)}.");
            }

            var fields = new JsonFields(part, partPath);
            string? type = fields.String("type");
            if (type != "text")
            {
                throw ApiException.Invalid(fields.PathOf("type"), $"'{fields.PathOf("type")}' must be 'text' (the only content this model reads), not '{type}'.");
            }

            text.Append(fields.String("text") ?? throw ApiException.Invalid(fields.PathOf("text"), $"'{fields.PathOf("text")}' is required."));
        }

        return text.ToString();
    }

    private static void CheckResponseFormat(JsonFields fields)
    {
        JsonFields? format = fields.Object("response_format");
        string? type = format?.String("type");
        if (format is not null && type != "text")
        {
            throw ApiException.Invalid("response_format.type", $"'response_format.type' must be 'text' (the only format served), not '{type}'.");
        }
    }
}
