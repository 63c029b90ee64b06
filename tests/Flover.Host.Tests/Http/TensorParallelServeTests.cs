using System.Net;
using System.Text.Json;
using Akka.Actor;
using Flover.Actors.Cluster;
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

    [Fact]
    public async Task A_worker_whose_rank_1_is_on_a_shard_node_answers_like_the_single_model()
    {
        const string body = """{"prompt":"The shards agree across nodes","max_tokens":6,"temperature":0,"ignore_eos":true}""";
        string single = await CompleteAsync(TinyServerFixture.TestConfig("flover.engine.threads = 2"), body);
        string[] cluster = ["flover.engine.threads = 2", "flover.parallel.tensor = 2", "akka.actor.provider = cluster", "akka.remote.dot-netty.tcp.hostname = \"127.0.0.1\"", "akka.remote.dot-netty.tcp.port = 0"];

        // A node with only the shard role: no engine, its shard host holds rank 1 of the worker's group.
        await using EngineHost shardNode = EngineHost.Load(TinyServerFixture.TestConfig([.. cluster, "akka.cluster.roles = [shard]"]), null, Gpt2Presets.Tiny, TextWriter.Null);
        await shardNode.StartSystemAsync();
        string address = Akka.Cluster.Cluster.Get(shardNode.System!).SelfAddress.ToString();
        // While the worker serves, the shard node's host holds its rank 1.
        IActorRef? rank1 = null;
        string across = await CompleteAsync(
            TinyServerFixture.TestConfig([.. cluster, "akka.cluster.roles = [worker]", $"akka.cluster.seed-nodes = [\"{address}\"]", $"flover.parallel.nodes = [\"{address}\"]"]),
            body,
            async () => rank1 = (await shardNode.System!.ActorSelection($"/user/{Actors.Inference.Sharding.ShardHostActor.Name}/*").Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(10))).Subject);

        Assert.Equal(single, across);
        Assert.NotNull(rank1);
        Assert.True(ClusterMode.From(TinyServerFixture.TestConfig([.. cluster, "akka.cluster.roles = [shard]"])) is { Shard: true, Worker: false, Frontend: false });
    }

    private static async Task<string> CompleteAsync(Config config, string body, Func<Task>? whileServing = null)
    {
        await using EngineHost engine = EngineHost.Load(config, null, Gpt2Presets.Tiny, TextWriter.Null);
        WebApplication app = ServeApp.Build(ServeSetup.For(engine, FloverSettings.From(config).Http), builder => builder.WebHost.UseTestServer());
        await using (app)
        {
            await app.StartAsync();
            using HttpClient client = app.GetTestClient();
            (HttpStatusCode status, JsonElement json) = await HttpTestClient.PostAsync(client, "/v1/completions", body);
            Assert.Equal(HttpStatusCode.OK, status);
            if (whileServing is not null)
            {
                await whileServing();
            }

            return json.GetProperty("choices")[0].GetProperty("text").GetString()!;
        }
    }
}
