using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Flover.Configuration;
using Flover.Gpu.Models;
using Flover.Host.Http;
using Microsoft.AspNetCore.Builder;
using Xunit.Abstractions;

namespace Flover.Host.Tests.Http;

/// <summary>
/// The bounded load test: the tiny preset behind Kestrel on loopback, a queue larger than the
/// clients, 200 streaming requests from 32 concurrent clients, every third hanging up after its
/// first tokens. Every other request completes whole, nothing is refused, and the server ends
/// idle by its own /metrics. Memory is recorded (a figure, not an assertion).
/// </summary>
[Trait("Category", "Slow")]
public sealed class LoadTests(ITestOutputHelper output)
{
    private const int Requests = 200;
    private const int Clients = 32;
    private const int MaxTokens = 16;
    private const int Slots = 16;

    [Fact]
    public async Task Two_hundred_streams_from_32_clients_with_a_third_hanging_up_all_complete_and_the_server_ends_idle()
    {
        Config config = TinyServerFixture.TestConfig($"flover.engine.kv-slots = {Slots}", "flover.engine.max-waiting = 64");
        await using EngineHost engine = EngineHost.Load(config, null, Gpt2Presets.Tiny, TextWriter.Null);
        HttpSettings http = FloverSettings.From(config).Http with { Host = "127.0.0.1", Port = 0 };
        await using WebApplication app = ServeApp.Build(ServeSetup.For(engine, http));
        await app.StartAsync();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Clients }) { BaseAddress = new Uri(app.Urls.Single() + "/"), Timeout = TimeSpan.FromSeconds(50) };
        long memoryBefore = Process.GetCurrentProcess().WorkingSet64;
        var clock = Stopwatch.StartNew();

        int next = -1;
        var outcomes = new Outcome[Requests];
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            for (int i = Interlocked.Increment(ref next); i < Requests; i = Interlocked.Increment(ref next))
            {
                outcomes[i] = await RunAsync(client, i, hangUp: i % 3 == 0);
            }
        })));
        TimeSpan elapsed = clock.Elapsed;
        string metrics = await MetricsWhenIdleAsync(client);
        long memoryAfter = Process.GetCurrentProcess().WorkingSet64;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Requests} streams, {Clients} clients: {elapsed.TotalSeconds:F1} s; working set {memoryBefore / 1048576.0:F0} MiB before, {memoryAfter / 1048576.0:F0} MiB after; managed heap {GC.GetTotalMemory(false) / 1048576.0:F0} MiB"));

        int[] kept = [.. Enumerable.Range(0, Requests).Where(i => i % 3 != 0)];
        Assert.All(kept, i => Assert.Equal(Outcome.Completed, outcomes[i]));
        Assert.All(Enumerable.Range(0, Requests).Where(i => i % 3 == 0), i => Assert.Equal(Outcome.HungUp, outcomes[i]));
        double completed = OpsServer.Sample(metrics, """flover_requests_total{finish_reason="length",status="200"}""") ?? 0;
        double cancelled = OpsServer.Sample(metrics, """flover_requests_total{finish_reason="cancelled",status="499"}""") ?? 0;
        // A hang-up can come after the server wrote its last token (tiny is fast): it counts as completed then.
        Assert.InRange(completed, kept.Length, Requests);
        Assert.Equal(Requests, completed + cancelled);
        Assert.DoesNotContain("status=\"429\"", metrics, StringComparison.Ordinal);
    }

    private enum Outcome
    {
        Failed,
        Completed,
        HungUp,
    }

    private static async Task<Outcome> RunAsync(HttpClient client, int index, bool hangUp)
    {
        string body = string.Create(CultureInfo.InvariantCulture, $$$"""{"prompt":"Request number {{{index}}} says","max_tokens":{{{MaxTokens}}},"seed":{{{index}}},"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}""");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return Outcome.Failed;
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(), Encoding.UTF8);
        int events = 0;
        int? completionTokens = null;
        while (await reader.ReadLineAsync() is string line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            if (hangUp && ++events == 2)
            {
                return Outcome.HungUp; // Disposing the response mid-stream closes the connection.
            }

            string data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                return completionTokens == MaxTokens ? Outcome.Completed : Outcome.Failed;
            }

            using JsonDocument chunk = JsonDocument.Parse(data);
            if (chunk.RootElement.TryGetProperty("usage", out JsonElement usage) && usage.ValueKind == JsonValueKind.Object)
            {
                completionTokens = usage.GetProperty("completion_tokens").GetInt32();
            }
        }

        return Outcome.Failed;
    }

    private static async Task<string> MetricsWhenIdleAsync(HttpClient client)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            string metrics = await client.GetStringAsync("metrics", limit.Token);
            if (OpsServer.Idle(metrics, Slots))
            {
                return metrics;
            }

            await Task.Delay(10, limit.Token);
        }
    }
}
