using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Flover.Gpu.Sampling;

namespace Flover.Host.Cli;

/// <summary>How <c>generate</c> prints its result.</summary>
internal static class GenerateOutput
{
    /// <summary>
    /// The <c>--json</c> object: <c>{"token_ids":[...],"text":"...","finish_reason":"length"|"stop",
    /// "logprobs":[{"token_id":..,"logprob":..,"top":[{"token_id":..,"logprob":..}]}]}</c>,
    /// <c>logprobs</c> only when asked for.
    /// </summary>
    public static string Json(IReadOnlyList<SampledToken> tokens, string text, FinishReason finish, bool withLogprobs)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("token_ids");
            foreach (SampledToken token in tokens)
            {
                writer.WriteNumberValue(token.TokenId);
            }

            writer.WriteEndArray();
            writer.WriteString("text", text);
            writer.WriteString("finish_reason", FinishName(finish));
            if (withLogprobs)
            {
                writer.WriteStartArray("logprobs");
                foreach (SampledToken token in tokens)
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("token_id", token.TokenId);
                    writer.WriteNumber("logprob", token.Logprob ?? float.NaN);
                    writer.WriteStartArray("top");
                    foreach (TokenLogprob alternative in token.TopLogprobs ?? [])
                    {
                        writer.WriteStartObject();
                        writer.WriteNumber("token_id", alternative.TokenId);
                        writer.WriteNumber("logprob", alternative.Logprob);
                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>One line per token: its id and log-probability, then the alternatives.</summary>
    public static void WriteLogprobsText(IReadOnlyList<SampledToken> tokens, TextWriter output)
    {
        foreach (SampledToken token in tokens)
        {
            string top = string.Join(", ", (token.TopLogprobs ?? []).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.TokenId} {t.Logprob:0.0000}")));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{token.TokenId,6} {token.Logprob:0.0000}  [{top}]"));
        }
    }

    /// <summary>The API's name of a finish reason: end-of-sequence and stop sequences both report <c>stop</c>.</summary>
    public static string FinishName(FinishReason finish) => finish switch
    {
        FinishReason.Length => "length",
        FinishReason.Eos or FinishReason.StopSequence => "stop",
        FinishReason.Cancelled => "cancelled",
        FinishReason.Timeout => "timeout",
        _ => "error",
    };
}
