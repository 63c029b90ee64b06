using System.Net;
using System.Text;
using System.Text.Json;
using Flover.Actors.Inference;

namespace Flover.Host.Tests.Http;

/// <summary>
/// Admission control on the real engine: with the waiting queue full the surplus gets 429 with
/// Retry-After while the requests admitted complete; a client that hangs up frees its KV slot.
/// The decode loop is held at a gate so "full" is a state, not a race.
/// </summary>
public sealed class AdmissionTests
{
    private const string Long = """{"prompt":"Once upon a time","max_tokens":200,"ignore_eos":true,"stream":true,"temperature":0}""";
    private const string Short = """{"prompt":"Hello","max_tokens":4,"ignore_eos":true,"temperature":0}""";

    [Fact]
    public async Task With_the_queue_full_the_surplus_gets_429_with_retry_after_and_the_admitted_complete()
    {
        await using OpsServer server = await OpsServer.StartAsync("flover.engine.kv-slots = 1", "flover.engine.max-waiting = 2");
        server.Gate.Hold();
        using var hangUp = new CancellationTokenSource();
        (HttpResponseMessage running, StreamReader reader) = await StartStreamAsync(server, Long, hangUp.Token);
        Task<HttpResponseMessage>[] surplus = [.. Enumerable.Range(0, 3).Select(_ => server.Client.PostAsync("/v1/completions", Json(Short)))];

        // Let the loop through one iteration at a time until it has queued two and refused one
        // (the arrivals' order is theirs; the outcome is not).
        Task<HttpResponseMessage> refused = await AnyRefusedAsync(server, surplus);
        await hangUp.CancelAsync();
        running.Dispose();
        reader.Dispose();
        server.Gate.Open();
        HttpResponseMessage[] answers = await Task.WhenAll(surplus);
        string metrics = await server.MetricsWhenAsync(m => OpsServer.Idle(m, slots: 1));

        HttpResponseMessage rejected = await refused;
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal("1", rejected.Headers.GetValues("Retry-After").Single());
        JsonElement error = JsonDocument.Parse(await rejected.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(("rate_limit_error", "engine_overloaded"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
        Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.Equal(1, OpsServer.Sample(metrics, """flover_requests_total{finish_reason="none",status="429"}"""));
        Assert.Equal(2, OpsServer.Sample(metrics, """flover_requests_total{finish_reason="length",status="200"}"""));
    }

    [Fact]
    public async Task A_client_that_hangs_up_mid_stream_frees_its_kv_slot_and_is_counted_as_cancelled()
    {
        await using OpsServer server = await OpsServer.StartAsync("flover.engine.kv-slots = 1");
        server.Gate.Hold();
        using var hangUp = new CancellationTokenSource();
        (HttpResponseMessage response, StreamReader reader) = await StartStreamAsync(server, Long, hangUp.Token);
        string during = await server.ScrapeAsync();

        await hangUp.CancelAsync();
        response.Dispose();
        reader.Dispose();
        server.Gate.Open();
        string after = await server.MetricsWhenAsync(m => OpsServer.Idle(m, slots: 1) && OpsServer.Sample(m, """flover_requests_total{finish_reason="cancelled",status="499"}""") == 1);

        Assert.Equal((1.0, 0.0), (OpsServer.Sample(during, "flover_kv_slots_used")!.Value, OpsServer.Sample(during, "flover_kv_slots_free")!.Value));
        // Far fewer than the 200 asked for: the loop stopped at the hang-up, not at max_tokens.
        Assert.InRange(OpsServer.Sample(after, "flover_generation_tokens_total")!.Value, 1, 10);
    }

    [Fact]
    public async Task A_client_that_gives_up_on_a_whole_response_frees_its_kv_slot()
    {
        await using OpsServer server = await OpsServer.StartAsync("flover.engine.kv-slots = 1");
        server.Gate.Hold();
        using var giveUp = new CancellationTokenSource();
        Task<HttpResponseMessage> call = server.Client.PostAsync("/v1/completions", Json(Long.Replace("\"stream\":true", "\"stream\":false", StringComparison.Ordinal)), giveUp.Token);
        await server.Gate.Waiting.WaitAsync();

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        server.Gate.Open();
        string after = await server.MetricsWhenAsync(m => OpsServer.Idle(m, slots: 1) && OpsServer.Sample(m, """flover_requests_total{finish_reason="cancelled",status="499"}""") == 1);

        Assert.InRange(OpsServer.Sample(after, "flover_generation_tokens_total")!.Value, 0, 10);
    }

    [Fact]
    public async Task A_request_past_flover_http_request_timeout_ends_with_the_timeout_detail_and_its_text_so_far()
    {
        await using OpsServer server = await OpsServer.StartAsync("flover.http.request-timeout = 50ms");
        server.Gate.Hold();
        Task<(HttpStatusCode, JsonElement)> call = HttpTestClient.PostAsync(server.Client, "/v1/completions", """{"prompt":"a","max_tokens":100,"ignore_eos":true}""");
        // Held in its first Decode, or (on a slow, cold start) already past its deadline before it.
        await Task.WhenAny(call, server.Gate.Waiting.WaitAsync());

        // A lower bound, not a race: the deadline has certainly passed when the loop moves on.
        await Task.Delay(TimeSpan.FromMilliseconds(80));
        server.Gate.Open();
        (HttpStatusCode status, JsonElement body) = await call;

        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement choice = body.GetProperty("choices")[0];
        Assert.Equal(("length", "timeout"), (choice.GetProperty("finish_reason").GetString(), choice.GetProperty("flover_finish_detail").GetString()));
        Assert.InRange(body.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 0, 5);
        Assert.Equal(1, OpsServer.Sample(await server.ScrapeAsync(), """flover_requests_total{finish_reason="timeout",status="200"}"""));
    }

    [Fact]
    public async Task An_engine_rejection_that_is_not_about_load_is_a_400_without_retry_after()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        Task<HttpResponseMessage> call = server.Client.PostAsync("/v1/completions", Json("""{"prompt":"a"}"""));
        (await server.NextRequestAsync()).Send(new Rejected("invalid sampling parameters"));
        using HttpResponseMessage response = await call;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.Contains("Retry-After"));
        Assert.Contains("engine_rejected", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_queue_full_rejection_of_a_whole_request_is_429_with_retry_after()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        Task<HttpResponseMessage> call = server.Client.PostAsync("/v1/completions", Json("""{"prompt":"a"}"""));
        (await server.NextRequestAsync()).Send(new Rejected("the waiting queue is full", RejectionCode.QueueFull));
        using HttpResponseMessage response = await call;

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
    }

    /// <summary>Steps the held loop until one of <paramref name="requests"/> has an answer (the refused one: the others wait for the slot).</summary>
    private static async Task<Task<HttpResponseMessage>> AnyRefusedAsync(OpsServer server, Task<HttpResponseMessage>[] requests)
    {
        Task<HttpResponseMessage> answered = Task.WhenAny(requests).Unwrap();
        while (!answered.IsCompleted)
        {
            server.Gate.Step();
            await Task.WhenAny(answered, server.Gate.Waiting.WaitAsync());
        }

        return requests.First(r => r.IsCompleted);
    }

    /// <summary>Starts a stream and reads its first event (the loop is then held in its next Decode).</summary>
    private static async Task<(HttpResponseMessage, StreamReader)> StartStreamAsync(OpsServer server, string body, CancellationToken cancellation)
    {
        Task<HttpResponseMessage> sending = server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = Json(body) }, HttpCompletionOption.ResponseHeadersRead, cancellation);
        // Held in the first Decode; one step gives the first decoded token, then it is held again.
        await server.Gate.Waiting.WaitAsync(cancellation);
        server.Gate.Step();
        await server.Gate.Waiting.WaitAsync(cancellation);
        HttpResponseMessage response = await sending;
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation), Encoding.UTF8);
        string? line;
        do
        {
            line = await reader.ReadLineAsync(cancellation);
        }
        while (line is not null && !line.StartsWith("data: ", StringComparison.Ordinal));

        return (response, reader);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
