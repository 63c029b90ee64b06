using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Hosting;
using Flover.Actors.Inference;
using Flover.Configuration;
using Flover.Gpu.Models;
using Flover.Gpu.Tests.Checkpoints;
using Flover.Gpu.Tests.Tokenization.HuggingFace;
using Flover.Host.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Flover.Host.Tests.Http;

/// <summary>
/// serve with <c>akka.actor.provider = cluster</c>, no roles and no seed nodes: one process that is
/// frontend and worker, a cluster of its own. HTTP requests go through the ClusterEngine to the
/// local worker; /ready turns ready once the worker has registered.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ClusterServeTests
{
    [Fact]
    public async Task A_single_node_cluster_serves_through_its_cluster_engine()
    {
        await using OpsServer server = await OpsServer.StartAsync(
            "akka.actor.provider = cluster", "akka.remote.dot-netty.tcp.hostname = \"127.0.0.1\"", "akka.remote.dot-netty.tcp.port = 0", "flover.cluster.status-interval = 50ms");
        Akka.Actor.IActorRef engine = await server.App.Services.GetRequiredService<ActorRegistry>().GetAsync<InferenceEngine>();

        (HttpStatusCode ready, JsonElement body) = await ReadyAsync(server);
        using HttpResponseMessage completion = await server.Client.PostAsync("/v1/completions", new StringContent("""{"prompt":"Hello","max_tokens":4,"temperature":0}""", Encoding.UTF8, "application/json"));
        using JsonDocument answer = JsonDocument.Parse(await completion.Content.ReadAsStringAsync());

        Assert.Equal("cluster-engine", engine.Path.Name);
        Assert.Equal((HttpStatusCode.OK, 8), (ready, body.GetProperty("kv_slots_free").GetInt32()));
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        Assert.Equal(4, answer.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task A_frontend_lists_the_model_its_workers_serve_and_labels_metrics_per_worker()
    {
        await using OpsServer server = await OpsServer.StartAsync(
            "akka.actor.provider = cluster", "akka.remote.dot-netty.tcp.hostname = \"127.0.0.1\"", "akka.remote.dot-netty.tcp.port = 0", "flover.cluster.status-interval = 50ms");

        (_, JsonElement ready) = await ReadyAsync(server);
        (HttpStatusCode listed, JsonElement models) = await HttpTestClient.GetAsync(server.Client, "/v1/models");
        (HttpStatusCode one, _) = await HttpTestClient.GetAsync(server.Client, "/v1/models/tiny");
        string metrics = await server.Client.GetStringAsync("/metrics");

        JsonElement worker = Assert.Single(ready.GetProperty("workers").EnumerateArray());
        string address = worker.GetProperty("worker").GetString()!;
        Assert.StartsWith("akka.tcp://flover@127.0.0.1:", address, StringComparison.Ordinal);
        Assert.Equal(("tiny", 8, true), (worker.GetProperty("model").GetString(), worker.GetProperty("kv_slots").GetInt32(), worker.GetProperty("serving").GetBoolean()));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (listed, one));
        Assert.Equal(["tiny"], models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        Assert.Contains($"flover_cluster_worker_kv_slots{{model=\"tiny\",worker=\"{address}\"}} 8", metrics, StringComparison.Ordinal);
        Assert.Contains($"flover_cluster_worker_serving{{model=\"tiny\",worker=\"{address}\"}} 1", metrics, StringComparison.Ordinal);
        (Dictionary<string, string> documented, Dictionary<string, string[]> labels) = MetricsDocumentTests.DocumentedTable("### Cluster metrics");
        Assert.Equal(4, documented.Count);
        Assert.All(documented, d => Assert.Contains($"# TYPE {d.Key} {d.Value}", metrics, StringComparison.Ordinal));
        Assert.All(labels, l => Assert.Equal(["model", "worker"], l.Value));
        Assert.DoesNotContain(MetricsDocumentTests.Types(metrics).Keys, k => k.StartsWith("flover_cluster_", StringComparison.Ordinal) && !documented.ContainsKey(k));
    }

    [Fact]
    public async Task A_frontend_with_no_worker_lists_no_model()
    {
        // A frontend only (no engine of its own, so no StepGate server): no worker ever registers.
        Config config = TinyServerFixture.TestConfig(
            "akka.actor.provider = cluster", "akka.cluster.roles = [frontend]", "akka.remote.dot-netty.tcp.hostname = \"127.0.0.1\"", "akka.remote.dot-netty.tcp.port = 0");
        await using EngineHost engine = EngineHost.Load(config, null, Gpt2Presets.Tiny, TextWriter.Null);
        await using WebApplication app = ServeApp.Build(ServeSetup.For(engine, FloverSettings.From(config).Http), builder => builder.WebHost.UseTestServer());
        await app.StartAsync();
        using HttpClient client = app.GetTestClient();

        (HttpStatusCode listed, JsonElement models) = await HttpTestClient.GetAsync(client, "/v1/models");
        (HttpStatusCode one, _) = await HttpTestClient.GetAsync(client, "/v1/models/tiny");
        (HttpStatusCode ready, _) = await HttpTestClient.GetAsync(client, "/ready");

        Assert.Equal((HttpStatusCode.OK, 0), (listed, models.GetProperty("data").GetArrayLength()));
        Assert.Equal(HttpStatusCode.NotFound, one);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready);
    }

    [Fact]
    public async Task A_frontend_reads_only_the_models_tokenizer_and_shape_never_its_weights()
    {
        // A GPT-2 folder with config.json and a tokenizer but no weight file: only a node that runs
        // the model needs the weights, so a frontend opens it and a worker refuses it in one line.
        string folder = Directory.CreateTempSubdirectory("flover-frontend-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "config.json"), TestCheckpoint.ConfigJson().ToJsonString());
            LlamaStyleFiles.WriteGpt2Style(folder);
            Config frontendConfig = TinyServerFixture.TestConfig(
                "akka.actor.provider = cluster", "akka.cluster.roles = [frontend]", "akka.remote.dot-netty.tcp.hostname = \"127.0.0.1\"", "akka.remote.dot-netty.tcp.port = 0");
            var log = new StringWriter();

            await using (EngineHost frontend = EngineHost.Load(frontendConfig, folder, null, log))
            {
                Gpu.Models.Gpt2Config config = Gpu.Checkpoints.Gpt2ConfigReader.Read(Path.Combine(folder, "config.json"));
                Assert.Equal((config.VocabularySize, config.MaxPositions, config.EosTokenId), (frontend.Model.VocabularySize, frontend.Model.ContextLength, frontend.Model.EosTokenId));
                Assert.Contains("tokenizer and shape (a frontend: the workers hold the weights)", log.ToString(), StringComparison.Ordinal);
            }

            Config workerConfig = TinyServerFixture.TestConfig(
                "akka.actor.provider = cluster", "akka.cluster.roles = [worker]", "akka.remote.dot-netty.tcp.hostname = \"127.0.0.1\"", "akka.remote.dot-netty.tcp.port = 0");
            Assert.Contains("safetensors", Assert.Throws<Gpu.FloverException>(() => EngineHost.Load(workerConfig, folder, null, TextWriter.Null)).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Polls /ready until it answers 200: the cluster formed and the worker registered (bounded by the test's own timeout).</summary>
    private static async Task<(HttpStatusCode, JsonElement)> ReadyAsync(OpsServer server)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            (HttpStatusCode status, JsonElement body) = await HttpTestClient.GetAsync(server.Client, "/ready");
            if (status == HttpStatusCode.OK)
            {
                return (status, body);
            }

            // A poll, not a timing assumption: the status decides, the delay only spaces requests.
            await Task.Delay(20, limit.Token);
        }
    }
}
