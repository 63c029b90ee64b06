using System.Net;
using System.Text;
using System.Text.Json;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Host.Tests.Http;

/// <summary>
/// What the server does with each way a request can end, and with quiet streams and clients that
/// leave, driven message by message through <see cref="ScriptedServer"/>.
/// </summary>
public sealed class StreamingBehaviourTests
{
    private const string StreamBody = """{"prompt":"a","max_tokens":5,"stream":true}""";

    [Fact]
    public async Task A_quiet_stream_gets_keep_alive_comments_and_then_its_tokens()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync("flover.http.keep-alive-interval = 20ms");
        using HttpResponseMessage response = await server.Client.SendAsync(Post(StreamBody), HttpCompletionOption.ResponseHeadersRead);
        ScriptedRequest request = await server.NextRequestAsync();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal(": keep-alive", await reader.ReadLineAsync());
        request.Send(new Token(0, 1, "Hi"));
        request.Send(new Completed(FinishReason.Eos, new Usage(1, 1)));
        string rest = await reader.ReadToEndAsync();

        List<string> events = HttpTestClient.Events(rest);
        Assert.Equal("Hi", HttpTestClient.JoinedText(events));
        Assert.Contains("\"finish_reason\":\"stop\"", events[^2], StringComparison.Ordinal);
        Assert.Equal("[DONE]", events[^1]);
    }

    [Fact]
    public async Task A_timeout_finishes_with_length_and_the_timeout_detail_and_trailing_text_is_sent()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        Task<(HttpStatusCode, JsonElement)> call = HttpTestClient.PostAsync(server.Client, "/v1/completions", """{"prompt":"a"}""");
        ScriptedRequest request = await server.NextRequestAsync();

        request.Send(new Token(0, 1, "x"));
        request.Send(new Completed(FinishReason.Timeout, new Usage(1, 1), "\uFFFD"));
        (HttpStatusCode status, JsonElement body) = await call;

        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement choice = body.GetProperty("choices")[0];
        Assert.Equal(("x\uFFFD", "length", "timeout"), (choice.GetProperty("text").GetString(), choice.GetProperty("finish_reason").GetString(), choice.GetProperty("flover_finish_detail").GetString()));
        Assert.NotNull(request.Request.Deadline);
    }

    [Fact]
    public async Task An_engine_error_is_a_500_and_on_a_stream_an_error_event_then_done()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        Task<(HttpStatusCode, JsonElement)> call = HttpTestClient.PostAsync(server.Client, "/v1/completions", """{"prompt":"a"}""");
        (await server.NextRequestAsync()).Send(new Completed(FinishReason.Error, new Usage(1, 0), string.Empty, "device lost"));
        (HttpStatusCode status, JsonElement body) = await call;
        Task<SseResult> streamed = HttpTestClient.StreamAsync(server.Client, "/v1/completions", StreamBody);
        ScriptedRequest second = await server.NextRequestAsync();
        second.Send(new Token(0, 1, "x"));
        second.Send(new Completed(FinishReason.Error, new Usage(1, 1), string.Empty, "device lost"));
        SseResult stream = await streamed;

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("device lost", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("server_error", body.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.OK, stream.Status);
        Assert.Contains("device lost", stream.Event(stream.Events.Count - 2).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("[DONE]", stream.Events[^1]);
    }

    [Fact]
    public async Task A_request_whose_engine_side_stops_without_an_answer_is_503_never_an_empty_200()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        Task<(HttpStatusCode, JsonElement)> call = HttpTestClient.PostAsync(server.Client, "/v1/completions", """{"prompt":"a"}""");
        server.Stop((await server.NextRequestAsync()).Client);
        (HttpStatusCode status, JsonElement body) = await call;
        using var abort = new CancellationTokenSource();
        using HttpResponseMessage response = await SendAndFirstTokenAsync(server, abort);
        ScriptedRequest second = await server.LastRequest!;

        // Only now: a Stop is a system message and would overtake a token still in the bridge's mailbox.
        server.Stop(second.Client);
        List<string> events = HttpTestClient.Events(await response.Content.ReadAsStringAsync());

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "engine_stopped"), (status, body.GetProperty("error").GetProperty("code").GetString()));
        Assert.Contains("\"code\":\"engine_stopped\"", events[^2], StringComparison.Ordinal);
        Assert.Equal("[DONE]", events[^1]);
    }

    [Fact]
    public async Task A_rejected_request_is_429_even_when_streaming()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        Task<SseResult> streamed = HttpTestClient.StreamAsync(server.Client, "/v1/completions", StreamBody);
        (await server.NextRequestAsync()).Send(new Rejected("the waiting queue is full", RejectionCode.QueueFull));
        SseResult stream = await streamed;

        Assert.Equal(HttpStatusCode.TooManyRequests, stream.Status);
        Assert.Contains("queue is full", stream.Raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_cancels_its_request()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        using var abort = new CancellationTokenSource();
        HttpResponseMessage response = await SendAndFirstTokenAsync(server, abort);
        ScriptedRequest request = await server.LastRequest!;

        await abort.CancelAsync();
        response.Dispose();

        Assert.IsType<Cancel>(await request.Received.ReadAsync());
        request.Send(new Completed(FinishReason.Cancelled, new Usage(1, 1)));
    }

    [Fact]
    public async Task A_client_that_gives_up_waiting_for_a_whole_response_cancels_its_request()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        using var abort = new CancellationTokenSource();
        Task<HttpResponseMessage> sending = server.Client.SendAsync(Post("""{"prompt":"a"}"""), abort.Token);
        ScriptedRequest request = await server.NextRequestAsync();
        request.Send(new Token(0, 1, "x"));

        await abort.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        Assert.IsType<Cancel>(await request.Received.ReadAsync());
    }

    private static async Task<HttpResponseMessage> SendAndFirstTokenAsync(ScriptedServer server, CancellationTokenSource abort)
    {
        Task<HttpResponseMessage> sending = server.Client.SendAsync(Post(StreamBody), HttpCompletionOption.ResponseHeadersRead, abort.Token);
        ScriptedRequest request = await server.NextRequestAsync();
        server.LastRequest = Task.FromResult(request);
        request.Send(new Token(0, 1, "x"));
        HttpResponseMessage response = await sending;
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(abort.Token), Encoding.UTF8);
        Assert.StartsWith("data: ", await reader.ReadLineAsync(abort.Token), StringComparison.Ordinal);
        return response;
    }

    private static HttpRequestMessage Post(string json) =>
        new(HttpMethod.Post, "/v1/completions") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
}
