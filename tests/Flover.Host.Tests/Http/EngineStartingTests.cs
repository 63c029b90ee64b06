using System.Net;
using System.Text.Json;
using Flover.Configuration;
using Flover.Gpu.Tokenization;
using Flover.Host.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;

namespace Flover.Host.Tests.Http;

/// <summary>Before the actor system has registered an engine, requests are refused with 503 and the server is not ready.</summary>
public sealed class EngineStartingTests
{
    [Fact]
    public async Task Without_a_registered_engine_a_completion_gets_503_engine_starting_and_ready_is_503()
    {
        Config config = TinyServerFixture.TestConfig();
        var model = new ServedModel("tiny", 256, 50257, 50256, Gpt2Tokenizer.Default, DateTimeOffset.UnixEpoch);
        var setup = new ServeSetup(model, FloverSettings.From(config).Http, TimeProvider.System, config, (_, _) => { }, null);
        await using WebApplication app = ServeApp.Build(setup, builder => builder.WebHost.UseTestServer());
        await app.StartAsync();
        using HttpClient client = app.GetTestClient();

        (HttpStatusCode status, JsonElement body) = await HttpTestClient.PostAsync(client, "/v1/completions", """{"prompt":"a"}""");
        (HttpStatusCode ready, _) = await HttpTestClient.GetAsync(client, "/ready");

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "engine_starting"), (status, body.GetProperty("error").GetProperty("code").GetString()));
        Assert.Equal("The engine is starting; try again shortly.", body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready);
    }
}
