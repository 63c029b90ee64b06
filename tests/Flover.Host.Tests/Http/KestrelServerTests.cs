using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Flover.Host.Tests.Http;

/// <summary>The same API over real sockets: Kestrel on port 0, HttpClient and a raw TCP client.</summary>
[Collection(TinyServerCollection.Name)]
public sealed class KestrelServerTests(TinyServerFixture fixture) : IAsyncLifetime
{
    private KestrelServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await KestrelServer.StartAsync(fixture);
        _client = new HttpClient { BaseAddress = _server.Address };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("zz\r\nabc\r\n0\r\n\r\n")]
    [InlineData("3\r\nabcXX0\r\n\r\n")]
    public async Task A_chunked_body_with_bad_framing_is_a_400_in_the_error_shape_without_internal_text(string chunks)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_server.Address.Host, _server.Address.Port);
        NetworkStream stream = tcp.GetStream();
        string request = $"POST /v1/completions HTTP/1.1\r\nHost: {_server.Address.Authority}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunks}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));

        using var reader = new StreamReader(stream, Encoding.UTF8);
        string response = await reader.ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 400", response, StringComparison.Ordinal);
        Assert.Contains("\"invalid_body\"", response, StringComparison.Ordinal);
        Assert.DoesNotContain("Bad chunk", response, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_body_that_stops_arriving_is_a_408_in_the_error_shape_without_internal_text()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_server.Address.Host, _server.Address.Port);
        NetworkStream stream = tcp.GetStream();
        // One byte of a promised hundred, then nothing: below Kestrel's minimum body data rate
        // (240 bytes/s after a 5 s grace period) for as long as the test waits, so the outcome does
        // not depend on timing, only the test's length does (about 6 s).
        string request = $"POST /v1/completions HTTP/1.1\r\nHost: {_server.Address.Authority}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));

        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string response = await reader.ReadToEndAsync(limit.Token);

        Assert.StartsWith("HTTP/1.1 408", response, StringComparison.Ordinal);
        Assert.Contains("\"request_timeout\"", response, StringComparison.Ordinal);
        Assert.Contains("The request body arrived too slowly.", response, StringComparison.Ordinal);
        Assert.DoesNotContain("data arriving too slowly", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Port_0_binds_a_free_loopback_port_that_serves_the_models_list()
    {
        (HttpStatusCode status, JsonElement body) = await HttpTestClient.GetAsync(_client, "v1/models");

        Assert.NotEqual(0, _server.Address.Port);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("tiny", body.GetProperty("data")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_completion_and_its_stream_agree_over_the_network()
    {
        const string Fields = "\"prompt\":\"Over the wire\",\"max_tokens\":10,\"seed\":21,\"ignore_eos\":true";
        (HttpStatusCode status, JsonElement whole) = await HttpTestClient.PostAsync(_client, "v1/completions", "{" + Fields + "}");

        SseResult stream = await HttpTestClient.StreamAsync(_client, "v1/completions", "{" + Fields + ",\"stream\":true}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("text").GetString(), HttpTestClient.JoinedText(stream.Events));
    }

    [Fact]
    public async Task A_chat_stream_arrives_as_chunked_server_sent_events()
    {
        SseResult stream = await HttpTestClient.StreamAsync(_client, "v1/chat/completions", """{"messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"seed":1,"ignore_eos":true,"stream":true}""");

        Assert.Equal("text/event-stream", stream.MediaType);
        // The role chunk, at most one chunk per token (a token completing no character sends none), the final chunk, [DONE].
        Assert.InRange(stream.Events.Count, 3, 3 + 3);
        Assert.Equal("assistant", stream.Event(0).GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("[DONE]", stream.Events[^1]);
    }

    [Fact]
    public async Task An_oversized_body_sent_in_chunks_without_a_length_is_413()
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, _server.Address.Port);
        NetworkStream network = socket.GetStream();
        var request = new StringBuilder("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        string chunk = new('x', 16 * 1024);
        for (int i = 0; i < 5; i++)
        {
            request.Append($"{chunk.Length:x}\r\n{chunk}\r\n");
        }

        await network.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));
        var buffer = new byte[64];
        int read = await network.ReadAsync(buffer);

        Assert.StartsWith("HTTP/1.1 413", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
    }
}
