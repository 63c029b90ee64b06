using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flover.Gpu.Tests.Reference;
using Xunit.Abstractions;

namespace Flover.Host.Tests.Cluster;

/// <summary>
/// A cluster of real <c>flover</c> processes on 127.0.0.1: a frontend (<c>flover serve</c>, role
/// frontend, its own seed) and two workers (<c>flover node</c>), the tiny preset paced to 40 ms a
/// step so a kill lands mid-generation. Waits are for lines the processes print (the ready and up
/// lines) and for tokens, never for time.
/// </summary>
[Trait("Category", "Slow")]
[Collection(ClusterProcessCollection.Name)]
public sealed class ClusterProcessTests(ITestOutputHelper output) : IDisposable
{
    private const int Streams = 32;
    private const int MaxTokens = 40;
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(2);
    private readonly List<FloverNode> _nodes = [];

    [Fact]
    public async Task Killing_a_worker_mid_generation_loses_no_token_of_any_stream_and_the_frontend_keeps_serving()
    {
        using var limit = new CancellationTokenSource(s_limit);
        int seedPort = FreePort();
        FloverNode frontend = Start("serve", ["--port", "0", "--set", $"akka.remote.dot-netty.tcp.port = {seedPort}", "--set", "akka.cluster.roles = [frontend]"], seedPort);
        FloverNode[] workers = [Start("node", ["--set", "akka.remote.dot-netty.tcp.port = 0", "--set", "akka.cluster.roles = [worker]"], seedPort), Start("node", ["--set", "akka.remote.dot-netty.tcp.port = 0", "--set", "akka.cluster.roles = [worker]"], seedPort)];

        string url = await frontend.StdoutLine("flover serve: ready at ", limit.Token);
        using var client = new HttpClient { BaseAddress = new Uri(url["flover serve: ready at ".Length..].Split(' ')[0] + "/"), Timeout = s_limit };
        // Up and warmed: the frontend registers a worker when it sees it Up (its INFO lines are not
        // on serve's stderr), so a burst spreads over the workers it knows by then.
        await Task.WhenAll(workers.Select(w => w.StdoutLine("flover node: worker ", limit.Token)));

        TaskCompletionSource[] flowing = [.. Enumerable.Range(0, Streams).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
        Task<string>[] streams = [.. Enumerable.Range(0, Streams).Select(i => StreamAsync(client, Prompt(i), flowing[i], limit.Token))];
        // Mid-generation: every stream has tokens; the worker that accepted more of them (its own
        // log lines, each with the request's id) is killed (SIGKILL: no leave, no drain).
        await Task.WhenAll(flowing.Select(f => f.Task)).WaitAsync(limit.Token);
        FloverNode victim = workers.MaxBy(w => w.Count("accepted from"))!;
        Assert.True(victim.Count("accepted from") > 0);
        var killed = Stopwatch.StartNew();
        victim.Process.Kill();
        string[] texts = await Task.WhenAll(streams);
        output.WriteLine($"the killed worker had accepted {victim.Count("accepted from")} of {Streams} streams; all ended {killed.Elapsed.TotalSeconds:0.0} s after the kill");

        // The frontend keeps serving, on the surviving worker: each prompt again, undisturbed, gives the same text.
        // (All at once: the survivor fuses them into one batch.)
        string[] undisturbed = await Task.WhenAll(Enumerable.Range(0, Streams).Select(i => CompleteAsync(client, Prompt(i), limit.Token)));
        Assert.Equal(undisturbed, texts);

        // One request id across the logs: each request the frontend moved was accepted by the killed
        // worker as attempt 1 and continued and finished on the survivor as attempt 2.
        string[] moved = [.. Regex.Matches(frontend.Stderr, @"Request (cmpl-[0-9a-f]+): its worker was lost").Select(m => m.Groups[1].Value)];
        Assert.NotEmpty(moved);
        output.WriteLine($"the frontend moved {moved.Length}: {string.Join(", ", moved)}");
        FloverNode survivor = workers.Single(w => w != victim);
        foreach (string id in moved)
        {
            Assert.Contains($"Request {id}@1: accepted from", victim.Stderr, StringComparison.Ordinal);
            // Its logger writes asynchronously: the line may follow the stream's end.
            Assert.Contains("continuing after", await survivor.StderrLine($"Request {id}@2: accepted from", limit.Token), StringComparison.Ordinal);
            await survivor.StderrLine($"Request {id}@2: finished (Length)", limit.Token);
        }
    }

    [Fact]
    public async Task A_late_joiner_takes_new_requests_and_a_worker_leaving_gracefully_finishes_its_streams_first()
    {
        using var limit = new CancellationTokenSource(s_limit);
        int seedPort = FreePort();
        FloverNode frontend = Start("serve", ["--port", "0", "--set", $"akka.remote.dot-netty.tcp.port = {seedPort}", "--set", "akka.cluster.roles = [frontend]"], seedPort);
        // Paced to 500 ms a step, so its four streams (20 s) outlast the late joiner's start (~4 s here, more on a loaded machine).
        FloverNode first = Start("node", ["--set", "akka.remote.dot-netty.tcp.port = 0", "--set", "akka.cluster.roles = [worker]", "--set", "flover.engine.min-step-interval = 500ms"], seedPort);
        string url = await frontend.StdoutLine("flover serve: ready at ", limit.Token);
        using var client = new HttpClient { BaseAddress = new Uri(url["flover serve: ready at ".Length..].Split(' ')[0] + "/"), Timeout = s_limit };
        await first.StdoutLine("flover node: worker ", limit.Token);

        // Four streams while the first worker is the only one: all of them are its.
        TaskCompletionSource[] flowing = [.. Enumerable.Range(0, 4).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
        Task<string>[] early = [.. Enumerable.Range(0, 4).Select(i => StreamAsync(client, Prompt(i), flowing[i], limit.Token))];
        await Task.WhenAll(flowing.Select(f => f.Task)).WaitAsync(limit.Token);
        Assert.Equal(4, first.Count("accepted from"));
        output.WriteLine("four streams flowing on the first worker");

        // A worker joining now, while they run, takes the next requests: it is the less loaded.
        FloverNode late = Start("node", ["--set", "akka.remote.dot-netty.tcp.port = 0", "--set", "akka.cluster.roles = [worker]"], seedPort);
        await late.StdoutLine("flover node: worker ", limit.Token);
        // Routing uses the frontend's view of its workers: wait until it shows both serving, the first with its four.
        await WaitForWorkersAsync(client, w => w.Length == 2 && w.All(x => x.GetProperty("serving").GetBoolean()) && w.Any(x => x.GetProperty("running").GetInt32() == 4), limit.Token);
        TaskCompletionSource lateFlowing = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> joined = StreamAsync(client, Prompt(4), lateFlowing, limit.Token);
        await lateFlowing.Task.WaitAsync(limit.Token);
        Assert.Equal(1, late.Count("accepted from"));
        output.WriteLine("the late joiner took the fifth");

        // SIGTERM to the first worker: it stops taking requests, finishes the four it holds, then leaves.
        using (Process term = Process.Start("kill", ["-TERM", first.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
        {
            await term.WaitForExitAsync(limit.Token);
        }

        string[] texts = await Task.WhenAll(early);
        output.WriteLine("the first worker's four streams ended");
        await first.StderrLine("node: left the cluster.", limit.Token);
        await first.Process.WaitForExitAsync(limit.Token);
        Assert.Equal(0, first.Process.ExitCode);
        Assert.Equal(4, first.Count("finished (Length)"));
        string joinedText = await joined;

        // Everything from here runs on the late joiner, and every text is the undisturbed one.
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(await CompleteAsync(client, Prompt(i), limit.Token), texts[i]);
        }

        Assert.Equal(await CompleteAsync(client, Prompt(4), limit.Token), joinedText);
        Assert.Equal(6, late.Count("accepted from"));
    }

    [Fact]
    public async Task Tensor_parallel_ranks_in_other_processes_give_the_whole_models_text_and_kill_9_of_one_loses_no_token()
    {
        using var limit = new CancellationTokenSource(s_limit);
        // Two shard nodes (b the cluster's seed) hold rank 1 of a TP 2 group whose rank 0 and decode
        // loop run in the worker-and-frontend a; c is the spare. A fourth process, a single node of its
        // own cluster, gives the whole model's (TP 1) text.
        int b = FreePort(), c = FreePort(), a = FreePort(), single = FreePort();
        string[] shard = ["--set", "akka.cluster.roles = [shard]", "--set", "flover.parallel.tensor = 2"];
        FloverNode holder = Start("node", [.. shard, "--set", $"akka.remote.dot-netty.tcp.port = {b}"], b);
        FloverNode spare = Start("node", [.. shard, "--set", $"akka.remote.dot-netty.tcp.port = {c}"], b);
        FloverNode reference = Start("serve", ["--port", "0", "--set", $"akka.remote.dot-netty.tcp.port = {single}", "--set", "flover.engine.min-step-interval = 0s"], single);
        await Task.WhenAll(holder.StdoutLine("flover node: shard node ", limit.Token), spare.StdoutLine("flover node: shard node ", limit.Token));
        FloverNode worker = Start("serve", [
            "--port", "0", "--set", $"akka.remote.dot-netty.tcp.port = {a}", "--set", "flover.parallel.tensor = 2",
            "--set", $"flover.parallel.nodes = [\"akka.tcp://flover@127.0.0.1:{b}\", \"akka.tcp://flover@127.0.0.1:{c}\"]",
            "--set", "flover.parallel.placement-timeout = 3s"], b);
        using HttpClient tp2 = Client(await worker.StdoutLine("flover serve: ready at ", limit.Token));
        using HttpClient tp1 = Client(await reference.StdoutLine("flover serve: ready at ", limit.Token));
        Assert.Contains("Opened tensor-parallel rank 1 of 2", await holder.StderrLine("Opened tensor-parallel rank", limit.Token), StringComparison.Ordinal);

        // Greedy across processes == the whole model's text.
        Assert.Equal(await CompleteAsync(tp1, Prompt(0), limit.Token), await CompleteAsync(tp2, Prompt(0), limit.Token));

        // kill -9 of rank 1's process mid-stream: rank 0's collective fails on rank 1's dropped
        // connection, so the dead node is asked last, the group is placed again on the spare at once,
        // and the stream ends with the undisturbed text.
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> stream = StreamAsync(tp2, Prompt(1), flowing, limit.Token);
        await flowing.Task.WaitAsync(limit.Token);
        var killed = Stopwatch.StartNew();
        holder.Process.Kill();
        Assert.Equal(await CompleteAsync(tp1, Prompt(1), limit.Token), await stream);
        output.WriteLine($"the stream ended {killed.Elapsed.TotalSeconds:0.0} s after the kill");
        Assert.Contains("Opened tensor-parallel rank 1 of 2", await spare.StderrLine("Opened tensor-parallel rank", limit.Token), StringComparison.Ordinal);
        Assert.Contains("connection to rank 1 dropped during a collective", await worker.StderrLine("failed: tensor-parallel shard 0", limit.Token), StringComparison.Ordinal);
        // Never asked first, the dead node was never passed over after a placement timeout.
        Assert.DoesNotContain("cannot be placed on", worker.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Tensor_parallel_n_across_n_processes_gives_tp_n_in_one_process_bit_for_bit_and_the_whole_models_greedy_text(int size)
    {
        using var limit = new CancellationTokenSource(s_limit);
        // size - 1 shard nodes (the first the cluster's seed) hold ranks 1.. of a TP size group whose
        // rank 0 and decode loop run in the worker-and-frontend. Two more processes, each a single node
        // of its own cluster, give TP size in one process and the whole model (TP 1). Unpaced: nothing
        // is killed.
        int[] shardPorts = [.. Enumerable.Range(1, size - 1).Select(_ => FreePort())];
        int seed = shardPorts[0], together = FreePort(), single = FreePort();
        string[] unpaced = ["--set", "flover.engine.min-step-interval = 0s"];
        string[] tensor = ["--set", $"flover.parallel.tensor = {size}"];
        FloverNode[] shards = [.. shardPorts.Select(port => Start("node", [.. unpaced, .. tensor, "--set", "akka.cluster.roles = [shard]", "--set", $"akka.remote.dot-netty.tcp.port = {port}"], seed))];
        FloverNode inOne = Start("serve", ["--port", "0", .. unpaced, .. tensor, "--set", $"akka.remote.dot-netty.tcp.port = {together}"], together);
        FloverNode reference = Start("serve", ["--port", "0", .. unpaced, "--set", $"akka.remote.dot-netty.tcp.port = {single}"], single);
        // The worker places its ranks once the shard nodes are up: before, a host's silence would cost a placement round.
        await Task.WhenAll(shards.Select(shard => shard.StdoutLine("flover node: shard node ", limit.Token)));
        string nodes = string.Join(", ", shardPorts.Select(port => $"\"akka.tcp://flover@127.0.0.1:{port}\""));
        FloverNode worker = Start("serve", ["--port", "0", .. unpaced, .. tensor, "--set", "akka.remote.dot-netty.tcp.port = 0", "--set", $"flover.parallel.nodes = [{nodes}]"], seed);
        using HttpClient across = Client(await worker.StdoutLine("flover serve: ready at ", limit.Token));
        using HttpClient tpN = Client(await inOne.StdoutLine("flover serve: ready at ", limit.Token));
        using HttpClient tp1 = Client(await reference.StdoutLine("flover serve: ready at ", limit.Token));
        for (int rank = 1; rank < size; rank++)
        {
            Assert.Contains($"Opened tensor-parallel rank {rank} of {size}", await shards[rank - 1].StderrLine("Opened tensor-parallel rank", limit.Token), StringComparison.Ordinal);
        }

        // Bitwise: every token's logprob and top 5 are the log-softmax of rank 0's gathered logits,
        // written to the last bit (shortest round-trip floats), so equal JSON is equal logits' worth
        // (TP 1's differ from TP N's in their last digits: the comparison sees the reduction order).
        for (int i = 0; i < 2; i++)
        {
            (string text, string logprobs) = await CompleteWithLogprobsAsync(across, Prompt(i), limit.Token);
            Assert.Equal(await CompleteWithLogprobsAsync(tpN, Prompt(i), limit.Token), (text, logprobs));
            Assert.Equal(await CompleteAsync(tp1, Prompt(i), limit.Token), text);
        }
    }

    private static HttpClient Client(string readyLine) =>
        new() { BaseAddress = new Uri(readyLine["flover serve: ready at ".Length..].Split(' ')[0] + "/"), Timeout = s_limit };

    [Fact]
    public async Task A_node_with_another_serializer_setup_is_refused_and_both_nodes_say_why()
    {
        using var limit = new CancellationTokenSource(s_limit);
        int seedPort = FreePort();
        FloverNode seed = Start("node", ["--set", $"akka.remote.dot-netty.tcp.port = {seedPort}", "--set", "akka.cluster.roles = [worker]"], seedPort);
        await seed.StdoutLine("flover node: worker ", limit.Token);

        // One more serialization binding: another digest in the wire-format role, as a build with another setup has.
        FloverNode joiner = Start("node", ["--set", "akka.remote.dot-netty.tcp.port = 0", "--set", "akka.cluster.roles = [worker]", "--set", "akka.actor.serialization-bindings { \"System.Guid, System.Private.CoreLib\" = flover }"], seedPort);
        await joiner.Process.WaitForExitAsync(limit.Token);
        output.WriteLine(joiner.Stderr);

        // Whichever stops the joiner first (its guard, or the seed's Down), it prints both lines and exits 1.
        Assert.Equal(1, joiner.Process.ExitCode);
        Assert.Contains("This node cannot join: its Flover wire format", joiner.Stderr, StringComparison.Ordinal);
        Assert.Contains("node: error: could not join the cluster: its Flover wire format or serializer setup differs", joiner.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("flover node: worker", joiner.Stdout, StringComparison.Ordinal);
        Assert.Contains("Refusing node", await seed.StderrLine("Refusing node", limit.Token), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (FloverNode node in _nodes)
        {
            if (!node.Process.HasExited)
            {
                node.Process.Kill(entireProcessTree: true);
            }

            // The last lines of each process, for a failure's report.
            output.WriteLine($"--- process {node.Process.Id}: {string.Join('\n', node.Stdout.Split('\n').TakeLast(3))}\n{string.Join('\n', node.Stderr.Split('\n').TakeLast(12))}");
            node.Process.Dispose();
        }
    }

    private static string Prompt(int i) => $"Request {i} of the cluster test:";

    /// <summary>A streamed completion's text; fails on an error event or a stream without its finish reason. <paramref name="flowing"/> is set once it brought a few tokens.</summary>
    private static async Task<string> StreamAsync(HttpClient client, string prompt, TaskCompletionSource flowing, CancellationToken cancellation)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = Body(prompt, stream: true) };
            using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation));
            var text = new StringBuilder();
            string? finish = null;
            int chunks = 0;
            while (await reader.ReadLineAsync(cancellation) is { } line && line != "data: [DONE]")
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    JsonElement chunk = JsonDocument.Parse(line["data: ".Length..]).RootElement;
                    Assert.False(chunk.TryGetProperty("error", out _), $"'{prompt}' ended with an error event: {line}");
                    JsonElement choice = chunk.GetProperty("choices")[0];
                    text.Append(choice.GetProperty("text").GetString());
                    if (++chunks == 4)
                    {
                        flowing.TrySetResult();
                    }

                    finish = choice.TryGetProperty("finish_reason", out JsonElement reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString() : finish;
                }
            }

            Assert.Equal("length", finish);
            return text.ToString();
        }
        finally
        {
            // A stream that ended early fails the test through its task; the kill must not wait for it.
            flowing.TrySetResult();
        }
    }

    /// <summary>Polls the frontend's <c>/ready</c> until its <c>workers</c> satisfy <paramref name="until"/>: the view its routing uses, which no process prints.</summary>
    private static async Task WaitForWorkersAsync(HttpClient client, Func<JsonElement[], bool> until, CancellationToken cancellation)
    {
        while (true)
        {
            using HttpResponseMessage response = await client.GetAsync("ready", cancellation);
            JsonElement root = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellation)).RootElement;
            if (root.TryGetProperty("workers", out JsonElement workers) && until([.. workers.EnumerateArray()]))
            {
                return;
            }

            // The worker loads reach the frontend with the cluster's gossip; the test's limit bounds the wait.
            await Task.Delay(100, cancellation);
        }
    }

    private static async Task<string> CompleteAsync(HttpClient client, string prompt, CancellationToken cancellation)
    {
        using HttpResponseMessage response = await client.PostAsync("v1/completions", Body(prompt, stream: false), cancellation);
        string body = await response.Content.ReadAsStringAsync(cancellation);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
    }

    /// <summary>A greedy completion's text and its <c>logprobs</c> object (top 5 of every token) as the server wrote it.</summary>
    private static async Task<(string Text, string Logprobs)> CompleteWithLogprobsAsync(HttpClient client, string prompt, CancellationToken cancellation)
    {
        var body = new Dictionary<string, object> { ["prompt"] = prompt, ["max_tokens"] = MaxTokens, ["temperature"] = 0, ["ignore_eos"] = true, ["logprobs"] = 5 };
        using HttpResponseMessage response = await client.PostAsync("v1/completions", new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"), cancellation);
        string answer = await response.Content.ReadAsStringAsync(cancellation);
        Assert.True(response.StatusCode == HttpStatusCode.OK, answer);
        JsonElement choice = JsonDocument.Parse(answer).RootElement.GetProperty("choices")[0];
        return (choice.GetProperty("text").GetString()!, choice.GetProperty("logprobs").GetRawText());
    }

    private static StringContent Body(string prompt, bool stream) => new(
        JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = prompt, ["max_tokens"] = MaxTokens, ["temperature"] = 0, ["stream"] = stream, ["ignore_eos"] = true }),
        Encoding.UTF8,
        "application/json");

    /// <summary>A loopback port nobody listens on now (bound, read, released): the frontend's cluster port, which the workers name as their seed.</summary>
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private FloverNode Start(string command, string[] arguments, int seedPort)
    {
        string dotnet = ChildProcess.Find("dotnet") ?? Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        string[] all =
        [
            Path.Combine(AppContext.BaseDirectory, "flover.dll"), command, "--preset", "tiny",
            "--set", "flover.engine.threads = 1", "--set", "flover.engine.min-step-interval = 40ms",
            "--set", "akka.actor.provider = cluster", "--set", "akka.remote.dot-netty.tcp.hostname = \"127.0.0.1\"",
            "--set", $"akka.cluster.seed-nodes = [\"akka.tcp://flover@127.0.0.1:{seedPort}\"]",
            // The test's own settings last: later --set ones win.
            .. arguments,
        ];
        all.ToList().ForEach(start.ArgumentList.Add);
        var node = new FloverNode(Process.Start(start)!);
        _nodes.Add(node);
        return node;
    }
}

/// <summary>Three processes decoding on 2 shared cores: nothing else of this assembly runs beside them, so their failure detectors see no extra load.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterProcessCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "cluster processes";
}
