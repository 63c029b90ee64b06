using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Flover.Gpu.Sampling;

namespace Flover.Host.Http;

/// <summary>
/// The fields <c>/v1/completions</c> and <c>/v1/chat/completions</c> share: model, sampling,
/// stop sequences, <c>n</c>, <c>user</c> and streaming. Every range is checked here, so the
/// engine never sees a value it would refuse.
/// </summary>
internal static class SamplingFields
{
    /// <summary>OpenAI's limit on stop sequences.</summary>
    public const int MaxStopSequences = 4;

    /// <summary>404 unless <c>model</c> is absent or names the served model.</summary>
    public static void CheckModel(JsonFields fields, ServedModel model)
    {
        string? requested = fields.String("model");
        if (requested is not null && requested != model.Id)
        {
            throw ApiException.ModelNotFound(requested, model.Id);
        }
    }

    /// <summary>Reads <c>stream</c> and <c>stream_options.include_usage</c>.</summary>
    public static (bool Stream, bool IncludeUsage) Streaming(JsonFields fields)
    {
        bool stream = fields.Bool("stream") ?? false;
        JsonFields? options = fields.Object("stream_options");
        if (options is null)
        {
            return (stream, false);
        }

        bool includeUsage = options.Value.Bool("include_usage") ?? false;
        return stream
            ? (true, includeUsage)
            : throw ApiException.Invalid("stream_options", "'stream_options' is only allowed when 'stream' is true.");
    }

    /// <summary>
    /// Reads the token budget from <paramref name="names"/> (the first present wins) and checks it
    /// against the context: prompt plus generated tokens must fit in <see cref="ServedModel.ContextLength"/>.
    /// With no field given, <paramref name="defaultValue"/> applies (null: all the room left).
    /// </summary>
    public static int MaxTokens(JsonFields fields, string[] names, int promptTokens, string promptField, ServedModel model, int? defaultValue)
    {
        int room = model.ContextLength - promptTokens;
        if (room < 1)
        {
            throw ApiException.Invalid(promptField, $"The prompt has {promptTokens} {(promptTokens == 1 ? "token" : "tokens")}; the model's context holds {model.ContextLength}, so at most {model.ContextLength - 1} leave room to generate.", "context_length_exceeded");
        }

        foreach (string name in names)
        {
            if (fields.Integer(name, min: 1) is long value)
            {
                return value <= room
                    ? (int)value
                    : throw ApiException.Invalid(name, $"'{name}' is {value}, but the prompt has {promptTokens} {(promptTokens == 1 ? "token" : "tokens")} and the model's context holds {model.ContextLength}: at most {room} tokens can be generated.", "context_length_exceeded");
            }
        }

        return Math.Min(defaultValue ?? room, room);
    }

    /// <summary>The sampling parameters, with <paramref name="maxTokens"/> and <paramref name="logprobs"/> already read.</summary>
    public static SamplingParameters Sampling(JsonFields fields, ServedModel model, int maxTokens, int? logprobs)
    {
        long? seed = fields.Integer("seed");
        return new SamplingParameters
        {
            Temperature = (float)(fields.Number("temperature", t => t >= 0 && t <= 2, "a number from 0 to 2") ?? 1),
            TopP = (float)(fields.Number("top_p", p => p > 0 && p <= 1, "a number in (0, 1]") ?? 1),
            TopK = (int)(fields.Integer("top_k", min: 0, max: int.MaxValue, range: "an integer ≥ 0 (0 turns it off)") ?? 0),
            PresencePenalty = (float)(fields.Number("presence_penalty", p => p >= -2 && p <= 2, "a number from -2 to 2") ?? 0),
            FrequencyPenalty = (float)(fields.Number("frequency_penalty", p => p >= -2 && p <= 2, "a number from -2 to 2") ?? 0),
            RepetitionPenalty = (float)(fields.Number("repetition_penalty", p => p > 0 && p <= 1e6, "a number > 0") ?? 1),
            MinTokens = (int)(fields.Integer("min_tokens", min: 0, max: maxTokens, range: $"an integer from 0 to max_tokens ({maxTokens})") ?? 0),
            LogitBias = LogitBias(fields, model),
            IgnoreEos = fields.Bool("ignore_eos") ?? false,
            MaxTokens = maxTokens,
            Logprobs = logprobs,
            // OpenAI's seed is any 64-bit integer; absent, every request draws its own.
            Seed = seed is long s ? unchecked((ulong)s) : BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)),
        };
    }

    /// <summary>Reads <c>stop</c>: a string or an array of up to 4 non-empty strings.</summary>
    public static IReadOnlyList<string> Stops(JsonFields fields)
    {
        JsonElement? stop = fields.Get("stop");
        if (stop is null)
        {
            return [];
        }

        if (stop.Value.ValueKind == JsonValueKind.String)
        {
            return [NonEmpty(stop.Value.GetString()!, "stop")];
        }

        if (stop.Value.ValueKind != JsonValueKind.Array)
        {
            throw fields.WrongType("stop", "a string or an array of strings", stop.Value);
        }

        if (stop.Value.GetArrayLength() > MaxStopSequences)
        {
            throw ApiException.Invalid("stop", $"'stop' holds {stop.Value.GetArrayLength()} sequences; at most {MaxStopSequences} are allowed.");
        }

        var stops = new List<string>();
        int i = 0;
        foreach (JsonElement item in stop.Value.EnumerateArray())
        {
            string path = $"stop[{i++}]";
            stops.Add(item.ValueKind == JsonValueKind.String
                ? NonEmpty(item.GetString()!, path)
                : throw ApiException.Invalid(path, $"'{path}' must be a string, not {JsonFields.Describe(item)}."));
        }

        return stops;
    }

    /// <summary>Checks <c>n</c> (only 1 is served) and the type of <c>user</c>.</summary>
    public static void CheckChoicesAndUser(JsonFields fields)
    {
        long n = fields.Integer("n", min: 1) ?? 1;
        if (n != 1)
        {
            throw ApiException.Invalid("n", $"'n' is {n}, but this server returns one choice per request: n must be 1.");
        }

        _ = fields.String("user");
    }

    private static string NonEmpty(string value, string path) =>
        value.Length > 0 ? value : throw ApiException.Invalid(path, $"'{path}' must not be an empty string.");

    private static Dictionary<int, float>? LogitBias(JsonFields fields, ServedModel model)
    {
        JsonFields? bias = fields.Object("logit_bias");
        if (bias is null)
        {
            return null;
        }

        var result = new Dictionary<int, float>();
        foreach (JsonProperty entry in fields.Get("logit_bias")!.Value.EnumerateObject())
        {
            string path = $"logit_bias.{entry.Name}";
            if (!int.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int token) || token >= model.VocabularySize)
            {
                throw ApiException.Invalid("logit_bias", $"'logit_bias' keys must be token ids from 0 to {model.VocabularySize - 1}; '{entry.Name}' is not one.");
            }

            result[token] = entry.Value.ValueKind == JsonValueKind.Number && entry.Value.GetDouble() is >= -100 and <= 100
                ? (float)entry.Value.GetDouble()
                : throw ApiException.Invalid(path, $"'{path}' must be a number from -100 to 100, not {JsonFields.Describe(entry.Value)}.");
        }

        return result;
    }
}
