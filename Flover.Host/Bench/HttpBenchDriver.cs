using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Flover.Gpu;

namespace Flover.Host.Bench;

/// <summary>
/// Replays a bench workload against a running <c>flover serve</c> as streaming
/// <c>/v1/completions</c> requests: each request is sent at its arrival time with its prompt as
/// token ids, the same output length (EOS ignored) and the same per-request seed the in-process
/// bench uses, so the two runs see the same work. The first chunk carrying text is the first
/// token, the final chunk (with <c>finish_reason</c>) the last; the token count is the usage the
/// server reports.
/// </summary>
internal static class HttpBenchDriver
{
    public static async Task<RunMeasurement> RunAsync(Uri server, IReadOnlyList<BenchRequest> workload, float? temperature, int seed, CancellationToken cancellation)
    {
        using var client = new HttpClient { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        string model = await ModelIdAsync(client, cancellation).ConfigureAwait(false);
        long start = Stopwatch.GetTimestamp();
        Task<RequestTiming>[] requests = [.. workload.Select(request => ReplayAsync(client, model, request, temperature, seed, start, cancellation))];
        RequestTiming[] timings = await Task.WhenAll(requests).ConfigureAwait(false);
        List<int>[] noIds = [.. workload.Select(_ => new List<int>())];
        // The server's loop counters are not visible from outside (see /metrics); only the request timings are measured.
        return new RunMeasurement(timings, 0, 0, 0, 0, 0, 0, 0, 0, noIds);
    }

    private static async Task<string> ModelIdAsync(HttpClient client, CancellationToken cancellation)
    {
        try
        {
            using JsonDocument models = JsonDocument.Parse(await client.GetStringAsync("/v1/models", cancellation).ConfigureAwait(false));
            return models.RootElement.GetProperty("data")[0].GetProperty("id").GetString()!;
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FloverException($"--url {client.BaseAddress}: no flover serve answers GET /v1/models there ({exception.Message}).", exception);
        }
    }

    private static async Task<RequestTiming> ReplayAsync(HttpClient client, string model, BenchRequest request, float? temperature, int seed, long start, CancellationToken cancellation)
    {
        TimeSpan wait = request.Arrival - Stopwatch.GetElapsedTime(start);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellation).ConfigureAwait(false);
        }

        var body = new Dictionary<string, object>
        {
            ["model"] = model,
            ["prompt"] = request.Prompt,
            ["max_tokens"] = request.OutputTokens,
            ["temperature"] = temperature ?? 0,
            ["seed"] = (ulong)((seed * 100_000L) + request.Id),
            ["ignore_eos"] = true,
            ["stream"] = true,
            ["stream_options"] = new Dictionary<string, object> { ["include_usage"] = true },
        };
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = JsonContent.Create(body) };
        using HttpResponseMessage response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new FloverException($"Request {request.Id} got HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false)}");
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false), Encoding.UTF8);
        double first = double.NaN, last = double.NaN;
        int tokens = 0;
        while (await reader.ReadLineAsync(cancellation).ConfigureAwait(false) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal) || line == "data: [DONE]")
            {
                continue;
            }

            double now = Stopwatch.GetElapsedTime(start).TotalSeconds;
            using JsonDocument chunk = JsonDocument.Parse(line.AsMemory(6));
            JsonElement root = chunk.RootElement;
            if (root.TryGetProperty("usage", out JsonElement usage) && usage.ValueKind == JsonValueKind.Object)
            {
                tokens = usage.GetProperty("completion_tokens").GetInt32();
            }

            if (root.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0)
            {
                JsonElement choice = choices[0];
                if (double.IsNaN(first) && choice.GetProperty("text").GetString() is { Length: > 0 })
                {
                    first = now;
                }

                if (choice.TryGetProperty("finish_reason", out JsonElement finish) && finish.ValueKind == JsonValueKind.String)
                {
                    last = now;
                }
            }
        }

        return new RequestTiming(request.Arrival.TotalSeconds, double.IsNaN(first) ? last : first, last, tokens);
    }
}
