using System.Text.Encodings.Web;
using System.Text.Json;

namespace Flover.Host.Http;

/// <summary>How every response body is written: compact, with text readable as it is (no \u escapes for quotes or non-ASCII).</summary>
internal static class JsonOutput
{
    /// <summary>
    /// The writer options. The relaxed encoder is safe here: bodies are served as
    /// application/json or text/event-stream, never embedded in HTML.
    /// </summary>
    public static JsonWriterOptions Options { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes one JSON object with <paramref name="body"/> filling it.</summary>
    public static byte[] Object(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
