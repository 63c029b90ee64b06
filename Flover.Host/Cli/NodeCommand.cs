using System.CommandLine;
using Akka.Actor;
using Flover.Actors.Cluster;
using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Models;
using Flover.Host.Http;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover node --config FILE [--model DIR|NAME | --preset NAME] [--set key=value ...]</c>: a
/// cluster worker without HTTP (docs/CLUSTER.md). The configuration must select the cluster
/// (<c>akka.actor.provider = cluster</c>, the node's address, its seed nodes, the role
/// <c>worker</c>); the node loads its engine, starts its <see cref="WorkerAgent"/>, joins, warms the
/// engine up and serves the cluster's frontends until Ctrl+C or SIGTERM, when it leaves the cluster
/// gracefully. stdout gets one line once the node is Up.
/// </summary>
internal static class NodeCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string?> model = CommonOptions.Model();
        Option<string?> preset = CommonOptions.Preset();
        var command = new Command("node", "Run a cluster worker node (no HTTP): its engine serves the cluster's frontends; see docs/CLUSTER.md.")
        {
            model, preset,
        };
        EngineCommandOptions engine = EngineCommandOptions.AddTo(command);
        command.SetAction((parse, cancellation) =>
        {
            Config loaded = engine.LoadConfig(parse);
            string? modelArgument = parse.GetValue(model);
            string? presetName = modelArgument is null && parse.GetValue(preset) is null ? Gpt2Presets.Gpt2 : parse.GetValue(preset);
            return RunAsync(loaded, modelArgument, presetName, console, cancellation);
        });
        return command;
    }

    private static async Task<int> RunAsync(Config config, string? model, string? preset, CliConsole console, CancellationToken cancellation)
    {
        ClusterMode mode = ClusterMode.From(config);
        if (!mode.Clustered || !(mode.Worker || mode.Shard))
        {
            throw new FloverException(mode.Clustered
                ? "flover node runs a worker or a shard node: akka.cluster.roles must include worker or shard (a frontend runs flover serve)."
                : "flover node runs a cluster worker: its --config must set akka.actor.provider = cluster, the node's akka.remote.dot-netty.tcp address and akka.cluster.seed-nodes (hocon/cluster/ has a three-node example).");
        }

        if (!mode.Worker && !ShardHosting.Hosts(FloverSettings.From(config), remote: true))
        {
            throw new FloverException($"a shard node holds ranks of tensor-parallel groups: it needs flover.parallel.tensor above 1 (the groups' size) and flover.parallel.host-capacity above 0, not {FloverSettings.From(config).Parallel.Tensor} and {FloverSettings.From(config).Parallel.HostCapacity}.");
        }

        // Akka's logs to stderr: stdout carries only the "up" line. On SIGTERM the worker agent
        // drains in the service-requests-done phase: give it flover.http.drain-timeout, as serve does.
        TimeSpan drain = FloverSettings.From(config).Http.DrainTimeout + TimeSpan.FromSeconds(5);
        config = ConfigurationFactory.ParseString($"""
            akka.loggers = ["{StandardErrorLogger.TypeName}"]
            akka.coordinated-shutdown.phases.service-requests-done.timeout = {(long)drain.TotalMilliseconds}ms
            """).WithFallback(config);
        EngineHost engine = EngineHost.Load(config, model, preset, console.Error, role: "node");
        await using (engine.ConfigureAwait(false))
        {
            EngineClient client = await engine.StartSystemAsync().ConfigureAwait(false);
            ActorSystem system = engine.System!;
            var cluster = Akka.Cluster.Cluster.Get(system);
            var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            cluster.RegisterOnMemberUp(() => up.TrySetResult());
            console.Error.WriteLine($"node: {cluster.SelfAddress} joining {(mode.HasSeeds ? "its seed nodes" : "itself (no seed nodes)")} ...");
            // Until Up, or until Akka gives up on the seed nodes (shutdown-after-unsuccessful-join-seed-nodes).
            await Task.WhenAny(up.Task, system.WhenTerminated).WaitAsync(cancellation).ConfigureAwait(false);
            if (!up.Task.IsCompleted)
            {
                await system.WhenTerminated.ConfigureAwait(false);
                console.Error.WriteLine(ClusterJoinFailure.Message(system, config, "node")
                    ?? $"node: error: the actor system stopped before this node was Up ({CoordinatedShutdown.Get(system).ShutdownReason?.GetType().Name ?? "no reason given"}).");
                return 1;
            }

            if (mode.Worker)
            {
                console.Error.WriteLine("node: warming up ...");
                await engine.WarmUpAsync(client, FloverSettings.From(config).Http.RequestTimeout).ConfigureAwait(false);
                console.Out.WriteLine($"flover node: worker {cluster.SelfAddress} up (model {engine.Model.Id}, {engine.Fingerprint.WeightsHash})");
            }
            else
            {
                // Only the shard role: its shard host opens ranks when a worker's placement asks.
                console.Out.WriteLine($"flover node: shard node {cluster.SelfAddress} up (model {engine.Model.Id}, ranks of groups of {FloverSettings.From(config).Parallel.Tensor}, room for {FloverSettings.From(config).Parallel.HostCapacity})");
            }

            console.Out.Flush();
            try
            {
                // Until Ctrl+C / SIGTERM, or until the cluster downs this node (its system then stops).
                await system.WhenTerminated.WaitAsync(cancellation).ConfigureAwait(false);
                if (cancellation.IsCancellationRequested || CoordinatedShutdown.Get(system).ShutdownReason is CoordinatedShutdown.ClrExitReason)
                {
                    // SIGTERM: Akka's shutdown hook ran the coordinated shutdown (leaving the cluster) first.
                    console.Error.WriteLine("node: left the cluster.");
                    return 0;
                }

                console.Error.WriteLine($"node: the actor system stopped ({CoordinatedShutdown.Get(system).ShutdownReason?.GetType().Name ?? "no reason given"}): the cluster downed or removed this node.");
                return 1;
            }
            catch (OperationCanceledException)
            {
                // Disposing the host terminates the system: CoordinatedShutdown leaves the cluster first.
                console.Error.WriteLine("node: leaving the cluster ...");
                return 0;
            }
        }
    }
}
