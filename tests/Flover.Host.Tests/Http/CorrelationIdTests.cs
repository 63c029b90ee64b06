using System.Text;
using System.Text.Json;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Host.Tests.Http;

/// <summary>An HTTP request's id (the response's <c>id</c>) is its correlation id in the engine, so logs on every node of a cluster name it.</summary>
public sealed class CorrelationIdTests
{
    [Fact]
    public async Task The_engine_receives_the_response_id_as_the_correlation_id()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        Task<HttpResponseMessage> post = server.Client.PostAsync("/v1/completions", new StringContent("""{"prompt":"a","max_tokens":1}""", Encoding.UTF8, "application/json"));
        ScriptedRequest request = await server.NextRequestAsync();
        request.Send(new Completed(FinishReason.Length, new Usage(1, 0)) { CorrelationId = request.Request.CorrelationId });

        using HttpResponseMessage response = await post;
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        string id = body.RootElement.GetProperty("id").GetString()!;
        Assert.StartsWith("cmpl-", id, StringComparison.Ordinal);
        Assert.Equal(id, request.Request.CorrelationId);
    }
}
