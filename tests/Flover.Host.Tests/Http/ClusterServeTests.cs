using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Hosting;
using Flover.Actors.Inference;
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
