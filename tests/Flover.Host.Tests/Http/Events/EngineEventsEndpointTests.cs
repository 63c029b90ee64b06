using System.Net;
using System.Text.Json;
using Flover.Actors.Inference;
using Flover.Host.Http.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Flover.Host.Tests.Http.Events;

/// <summary><c>GET /v1/engine/events</c> over the HTTP stack (a scripted engine; summaries published to the hub).</summary>
public sealed class EngineEventsEndpointTests
{
    [Fact]
    public async Task A_viewer_gets_each_summary_as_one_iteration_event()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        using HttpResponseMessage response = await server.Client.GetAsync("/v1/engine/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var start = DateTimeOffset.UnixEpoch;
        server.App.Services.GetRequiredService<EngineEventHub>().Publish(new IterationSummary(start, start.AddSeconds(1), "fused", 2, [1, 2], 2, 1.5, 3, 3, [KvSlot.HeldBy(4), KvSlot.Free], [], 0, 1));

        Assert.Equal("event: iteration", await reader.ReadLineAsync());
        string data = (await reader.ReadLineAsync())!;
        Assert.StartsWith("data: ", data, StringComparison.Ordinal);
        JsonElement json = JsonDocument.Parse(data["data: ".Length..]).RootElement;
        Assert.Equal("hf", json.GetProperty("slots").GetString());
        Assert.Equal(3, json.GetProperty("tokens").GetInt64());
        Assert.Equal(string.Empty, await reader.ReadLineAsync());
    }

    [Fact]
    public async Task A_quiet_stream_gets_keep_alive_comments()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync("flover.http.keep-alive-interval = 20ms");
        using HttpResponseMessage response = await server.Client.GetAsync("/v1/engine/events", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal(": keep-alive", await reader.ReadLineAsync());
    }

    [Fact]
    public async Task One_viewer_past_the_cap_gets_429_in_the_error_shape()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync("flover.http.max-event-viewers = 1");
        using HttpResponseMessage first = await server.Client.GetAsync("/v1/engine/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using HttpResponseMessage second = await server.Client.GetAsync("/v1/engine/events", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("5", second.Headers.GetValues("Retry-After").Single());
        JsonElement error = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("too_many_viewers", error.GetProperty("code").GetString());
        Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task With_api_keys_the_event_stream_needs_one_like_every_api_path()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync("flover.http.api-keys = [\"sk-test\"]");

        using HttpResponseMessage response = await server.Client.GetAsync("/v1/engine/events", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
