using System.Collections.Concurrent;
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
    private const int Streams = 8;
    private const int MaxTokens = 40;
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(2);
    private readonly List<Node> _nodes = [];

    [Fact]
    public async Task Killing_a_worker_mid_generation_loses_no_token_of_any_stream_and_the_frontend_keeps_serving()
    {
        using var limit = new CancellationTokenSource(s_limit);
        int seedPort = FreePort();
        Node frontend = Start("serve", ["--port", "0", "--set", $"akka.remote.dot-netty.tcp.port = {seedPort}", "--set", "akka.cluster.roles = [frontend]"], seedPort);
        Node[] workers = [Start("node", ["--set", "akka.remote.dot-netty.tcp.port = 0", "--set", "akka.cluster.roles = [worker]"], seedPort), Start("node", ["--set", "akka.remote.dot-netty.tcp.port = 0", "--set", "akka.cluster.roles = [worker]"], seedPort)];

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
        Node victim = workers.MaxBy(w => w.Count("accepted from"))!;
        Assert.True(victim.Count("accepted from") > 0);
        var killed = Stopwatch.StartNew();
        victim.Process.Kill();
        string[] texts = await Task.WhenAll(streams);
        output.WriteLine($"the killed worker had accepted {victim.Count("accepted from")} of {Streams} streams; all ended {killed.Elapsed.TotalSeconds:0.0} s after the kill");

        // The frontend keeps serving, on the surviving worker: each prompt again, undisturbed, gives the same text.
        for (int i = 0; i < Streams; i++)
        {
            Assert.Equal(await CompleteAsync(client, Prompt(i), limit.Token), texts[i]);
        }

        // One request id across the logs: each request the frontend moved was accepted by the killed
        // worker as attempt 1 and continued and finished on the survivor as attempt 2.
        string[] moved = [.. Regex.Matches(frontend.Stderr, @"Request (cmpl-[0-9a-f]+): its worker was lost").Select(m => m.Groups[1].Value)];
        Assert.NotEmpty(moved);
        output.WriteLine($"the frontend moved {moved.Length}: {string.Join(", ", moved)}");
        Node survivor = workers.Single(w => w != victim);
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
        Node frontend = Start("serve", ["--port", "0", "--set", $"akka.remote.dot-netty.tcp.port = {seedPort}", "--set", "akka.cluster.roles = [frontend]"], seedPort);
        // Paced to 250 ms a step, so its four streams (10 s) outlast the late joiner's start (~4 s here).
        Node first = Start("node", ["--set", "akka.remote.dot-netty.tcp.port = 0", "--set", "akka.cluster.roles = [worker]", "--set", "flover.engine.min-step-interval = 250ms"], seedPort);
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
        Node late = Start("node", ["--set", "akka.remote.dot-netty.tcp.port = 0", "--set", "akka.cluster.roles = [worker]"], seedPort);
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
    public async Task A_node_with_another_serializer_setup_is_refused_and_both_nodes_say_why()
    {
        using var limit = new CancellationTokenSource(s_limit);
        int seedPort = FreePort();
        Node seed = Start("node", ["--set", $"akka.remote.dot-netty.tcp.port = {seedPort}", "--set", "akka.cluster.roles = [worker]"], seedPort);
        await seed.StdoutLine("flover node: worker ", limit.Token);

        // One more serialization binding: another digest in the wire-format role, as a build with another setup has.
        Node joiner = Start("node", ["--set", "akka.remote.dot-netty.tcp.port = 0", "--set", "akka.cluster.roles = [worker]", "--set", "akka.actor.serialization-bindings { \"System.Guid, System.Private.CoreLib\" = flover }"], seedPort);
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
        foreach (Node node in _nodes)
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

    private Node Start(string command, string[] arguments, int seedPort)
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
        var node = new Node(Process.Start(start)!);
        _nodes.Add(node);
        return node;
    }

    /// <summary>A process whose output lines are collected as they come, with waits for a line.</summary>
    private sealed class Node
    {
        private readonly ConcurrentQueue<string> _stdout = new();
        private readonly ConcurrentQueue<string> _stderr = new();
        private readonly List<(Func<string, bool> Match, bool Stdout, TaskCompletionSource<string> Found)> _waits = [];

        public Node(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => Received(e.Data, stdout: true);
            process.ErrorDataReceived += (_, e) => Received(e.Data, stdout: false);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Stderr => string.Join('\n', _stderr);

        public string Stdout => string.Join('\n', _stdout);

        public int Count(string needle) => _stderr.Count(l => l.Contains(needle, StringComparison.Ordinal));

        public Task<string> StdoutLine(string start, CancellationToken cancellation) => Wait(l => l.StartsWith(start, StringComparison.Ordinal), stdout: true, cancellation);

        public Task<string> StderrLine(string needle, CancellationToken cancellation) => Wait(l => l.Contains(needle, StringComparison.Ordinal), stdout: false, cancellation);

        private async Task<string> Wait(Func<string, bool> match, bool stdout, CancellationToken cancellation)
        {
            var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waits)
            {
                if ((stdout ? _stdout : _stderr).FirstOrDefault(match) is { } seen)
                {
                    return seen;
                }

                _waits.Add((match, stdout, found));
            }

            try
            {
                return await found.Task.WaitAsync(cancellation);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no such line within the limit; the process {(Process.HasExited ? $"exited with {Process.ExitCode}" : "runs")}; stderr:\n{Stderr}");
            }
        }

        private void Received(string? line, bool stdout)
        {
            if (line is null)
            {
                return;
            }

            lock (_waits)
            {
                (stdout ? _stdout : _stderr).Enqueue(line);
                foreach (var wait in _waits.Where(w => w.Stdout == stdout && w.Match(line)))
                {
                    wait.Found.TrySetResult(line);
                }
            }
        }
    }
}

/// <summary>Three processes decoding on 2 shared cores: nothing else of this assembly runs beside them, so their failure detectors see no extra load.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterProcessCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "cluster processes";
}
