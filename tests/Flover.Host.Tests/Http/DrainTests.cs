using System.Net;
using System.Text.Json;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;
using Flover.Host.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Flover.Host.Tests.Http;

/// <summary>
/// The graceful drain, on an in-process host stopped as SIGTERM or Ctrl+C stops it: new requests
/// get 503 while requests in flight finish; at the drain timeout the rest are cancelled and their
/// clients told why.
/// </summary>
public sealed class DrainTests
{
    [Fact]
    public async Task While_draining_new_requests_get_503_and_the_request_in_flight_completes()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync("flover.http.drain-timeout = 10m");
        Task<(HttpStatusCode, JsonElement)> inFlight = HttpTestClient.PostAsync(server.Client, "/v1/completions", """{"prompt":"a"}""");
        ScriptedRequest request = await server.NextRequestAsync();

        Task stopping = server.App.StopAsync();
        await DrainingAsync(server);
        (HttpStatusCode refused, JsonElement error) = await HttpTestClient.PostAsync(server.Client, "/v1/completions", """{"prompt":"b"}""");
        (HttpStatusCode health, _) = await HttpTestClient.GetAsync(server.Client, "/health");
        (HttpStatusCode ready, _) = await HttpTestClient.GetAsync(server.Client, "/ready");
        using HttpResponseMessage metrics = await server.Client.GetAsync("/metrics");
        string scraped = await metrics.Content.ReadAsStringAsync();
        bool stoppedEarly = stopping.IsCompleted;
        request.Send(new Token(0, 1, "x"));
        request.Send(new Completed(FinishReason.Length, new Usage(1, 1)));
        (HttpStatusCode status, JsonElement body) = await inFlight;
        await stopping;

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "server_shutting_down"), (refused, error.GetProperty("error").GetProperty("code").GetString()));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK), (health, ready, metrics.StatusCode));
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metrics.Content.Headers.ContentType!.ToString());
        Assert.Contains("# TYPE flover_requests_total counter\n", scraped, StringComparison.Ordinal);
        Assert.False(stoppedEarly);
        Assert.Equal((HttpStatusCode.OK, "x"), (status, body.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal((1, 0), server.App.Services.GetRequiredService<DrainService>().Result);
    }

    [Fact]
    public async Task At_the_drain_timeout_the_requests_left_are_cancelled_and_their_clients_get_503()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync("flover.http.drain-timeout = 0s");
        Task<SseResult> streamed = HttpTestClient.StreamAsync(server.Client, "/v1/completions", """{"prompt":"a","stream":true}""");
        ScriptedRequest streaming = await server.NextRequestAsync();
        streaming.Send(new Token(0, 1, "x"));
        Task<(HttpStatusCode, JsonElement)> whole = HttpTestClient.PostAsync(server.Client, "/v1/completions", """{"prompt":"a"}""");
        ScriptedRequest waiting = await server.NextRequestAsync();
        waiting.Send(new Token(0, 1, "y"));

        Task stopping = server.App.StopAsync();
        Assert.IsType<Cancel>(await streaming.Received.ReadAsync());
        Assert.IsType<Cancel>(await waiting.Received.ReadAsync());
        streaming.Send(new Completed(FinishReason.Cancelled, new Usage(1, 1)));
        waiting.Send(new Completed(FinishReason.Cancelled, new Usage(1, 1)));
        SseResult stream = await streamed;
        (HttpStatusCode status, JsonElement body) = await whole;
        await stopping;

        Assert.Equal(HttpStatusCode.OK, stream.Status);
        Assert.Contains("\"code\":\"server_shutting_down\"", stream.Events[^2], StringComparison.Ordinal);
        Assert.Equal("[DONE]", stream.Events[^1]);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "server_shutting_down"), (status, body.GetProperty("error").GetProperty("code").GetString()));
        Assert.Equal((2, 2), server.App.Services.GetRequiredService<DrainService>().Result);
    }

    [Fact]
    public async Task A_drain_with_nothing_in_flight_ends_at_once()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync("flover.http.drain-timeout = 10m");

        await server.App.StopAsync();

        Assert.Equal((0, 0), server.App.Services.GetRequiredService<DrainService>().Result);
        Assert.True(server.Admission.Draining);
    }

    [Fact]
    public async Task A_request_still_waiting_for_admission_at_the_drain_timeout_gets_503()
    {
        await using OpsServer server = await OpsServer.StartAsync("flover.http.drain-timeout = 0s", "flover.engine.kv-slots = 1");
        server.Gate.Hold();
        Task<(HttpStatusCode, JsonElement)> running = HttpTestClient.PostAsync(server.Client, "/v1/completions", """{"prompt":"a","max_tokens":50}""");
        await server.Gate.Waiting.WaitAsync();
        Task<(HttpStatusCode, JsonElement)> queued = HttpTestClient.PostAsync(server.Client, "/v1/completions", """{"prompt":"b","max_tokens":50}""");
        await WaitingAsync(server);

        Task stopping = server.App.StopAsync();
        await DrainingAsync(server.Serve.Engine);
        server.Gate.Open();
        (HttpStatusCode first, _) = await running;
        (HttpStatusCode second, _) = await queued;
        await stopping;

        // Both left the loop before the coordinated shutdown went on to stop the actors: the
        // drain waits for their Completed(Cancelled), which the loop sends after the iteration
        // that retired them has published its state.
        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable), (first, second));
        Assert.Equal(new EngineStatus(0, 0, 0, 1), server.Engine.Metrics.LastPublished);
    }

    private static Task DrainingAsync(ScriptedServer server) => DrainingAsync(server.Admission);

    private static async Task DrainingAsync(EngineClient engine)
    {
        while (!engine.Draining)
        {
            await Task.Yield();
        }
    }

    private static Task WaitingAsync(OpsServer server) =>
        server.StepUntilAsync(m => OpsServer.Sample(m, "flover_requests_waiting") == 1);
}
