using System.Net;
using System.Text.Json;
using Flover.Configuration;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;
using Flover.Host.Cli;
using Flover.Host.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;

namespace Flover.Host.Tests.Cli;

/// <summary><c>generate</c> runs the engine <c>serve</c> runs: with tensor parallelism too, the same request gets bitwise the same tokens.</summary>
[Trait("Category", "Slow")]
public sealed class TensorParallelGenerateTests
{
    private const string Prompt = "The shards agree";

    [Fact]
    public async Task Tensor_parallel_generate_gives_bitwise_the_tokens_and_logprobs_serve_gives()
    {
        Config config = Http.TinyServerFixture.TestConfig("flover.engine.threads = 2", "flover.parallel.tensor = 2");
        var sampling = new SamplingParameters { MaxTokens = 8, Temperature = 0.9f, Seed = 11, IgnoreEos = true, Logprobs = 1 };

        (string cliText, float[] cliLogprobs) = await GenerateAsync(config, sampling);
        (string serveText, float[] serveLogprobs) = await ServeAsync(config, """{"prompt":"The shards agree","max_tokens":8,"temperature":0.9,"seed":11,"ignore_eos":true,"logprobs":1}""");

        Assert.Equal(8, cliLogprobs.Length);
        Assert.Equal(serveText, cliText);
        Assert.Equal(serveLogprobs, cliLogprobs);
    }

    private static async Task<(string Text, float[] Logprobs)> GenerateAsync(Config config, SamplingParameters sampling)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exitCode = await GenerateCommand.RunAsync(new GenerateRequest(null, Gpt2Presets.Tiny, Prompt, null, config, sampling), json: true, new CliConsole(new StringReader(string.Empty), stdout, stderr));
        Assert.True(exitCode == 0, stderr.ToString());
        Assert.Contains("2 shard actor(s)", stderr.ToString(), StringComparison.Ordinal);
        using JsonDocument document = JsonDocument.Parse(stdout.ToString());
        JsonElement root = document.RootElement;
        return (root.GetProperty("text").GetString()!, [.. root.GetProperty("logprobs").EnumerateArray().Select(e => e.GetProperty("logprob").GetSingle())]);
    }

    private static async Task<(string Text, float[] Logprobs)> ServeAsync(Config config, string body)
    {
        await using EngineHost engine = EngineHost.Load(config, null, Gpt2Presets.Tiny, TextWriter.Null);
        WebApplication app = ServeApp.Build(ServeSetup.For(engine, FloverSettings.From(config).Http), builder => builder.WebHost.UseTestServer());
        await using (app)
        {
            await app.StartAsync();
            using HttpClient client = app.GetTestClient();
            (HttpStatusCode status, JsonElement json) = await Http.HttpTestClient.PostAsync(client, "/v1/completions", body);
            Assert.Equal(HttpStatusCode.OK, status);
            JsonElement choice = json.GetProperty("choices")[0];
            return (choice.GetProperty("text").GetString()!, [.. choice.GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray().Select(e => e.GetSingle())]);
        }
    }
}
