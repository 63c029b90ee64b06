using System.Net;
using System.Text.Json;
using Flover.Configuration;
using Flover.Gpu.Models;
using Flover.Host.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;

namespace Flover.Host.Tests.Http;

/// <summary><c>serve</c> with <c>flover.parallel.tensor = 2</c>: the decode loop drives shard actors and answers like the unsplit engine.</summary>
[Trait("Category", "Slow")]
public sealed class TensorParallelServeTests
{
    [Fact]
    public async Task A_greedy_completion_from_shard_actors_equals_the_single_model_one()
    {
        const string body = """{"prompt":"The shards agree","max_tokens":6,"temperature":0,"ignore_eos":true}""";

        string single = await CompleteAsync(TinyServerFixture.TestConfig("flover.engine.threads = 2"), body);
        string sharded = await CompleteAsync(TinyServerFixture.TestConfig("flover.engine.threads = 2", "flover.parallel.tensor = 2"), body);

        Assert.Equal(single, sharded);
    }

    private static async Task<string> CompleteAsync(Config config, string body)
    {
        await using EngineHost engine = EngineHost.Load(config, null, Gpt2Presets.Tiny, TextWriter.Null);
        WebApplication app = ServeApp.Build(ServeSetup.For(engine, FloverSettings.From(config).Http), builder => builder.WebHost.UseTestServer());
        await using (app)
        {
            await app.StartAsync();
            using HttpClient client = app.GetTestClient();
            (HttpStatusCode status, JsonElement json) = await HttpTestClient.PostAsync(client, "/v1/completions", body);
            Assert.Equal(HttpStatusCode.OK, status);
            return json.GetProperty("choices")[0].GetProperty("text").GetString()!;
        }
    }
}
