using System.Net;
using System.Text;
using System.Text.Json;

namespace Flover.Host.Tests.Http;

/// <summary>Posts JSON and reads answers, whole or as Server-Sent Events.</summary>
internal static class HttpTestClient
{
    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient client, string path, string json)
    {
        using HttpResponseMessage response = await client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient client, string path)
    {
        using HttpResponseMessage response = await client.GetAsync(path);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>A streamed answer: its status, content type and every <c>data:</c> payload in order ([DONE] included).</summary>
    public static async Task<SseResult> StreamAsync(HttpClient client, string path, string json)
    {
        using HttpResponseMessage response = await client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        return new SseResult(response.StatusCode, response.Content.Headers.ContentType?.MediaType, Events(text), text);
    }

    /// <summary>The <c>data:</c> payloads of an event stream.</summary>
    public static List<string> Events(string text) =>
        [.. text.Split('\n').Where(line => line.StartsWith("data: ", StringComparison.Ordinal)).Select(line => line["data: ".Length..])];

    /// <summary>The text deltas of a stream of completion or chat chunks, joined.</summary>
    public static string JoinedText(IEnumerable<string> events) => string.Concat(events
        .Where(e => e != "[DONE]")
        .Select(e => JsonDocument.Parse(e).RootElement)
        .Where(e => e.TryGetProperty("choices", out JsonElement c) && c.GetArrayLength() > 0)
        .Select(e => e.GetProperty("choices")[0])
        .Select(c => c.TryGetProperty("text", out JsonElement t) ? t.GetString()
            : c.GetProperty("delta").TryGetProperty("content", out JsonElement d) ? d.GetString() : string.Empty));
}

/// <summary>What a streaming request returned.</summary>
internal sealed record SseResult(HttpStatusCode Status, string? MediaType, List<string> Events, string Raw)
{
    public JsonElement Event(int index) => JsonDocument.Parse(Events[index]).RootElement;
}
