using System.CommandLine;
using Akka.Actor;
using Flover.Actors.Cluster;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Models;
using Flover.Host.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover serve [--model DIR|NAME | --preset NAME] [--config FILE] [--set key=value ...]
/// [--host H] [--port P] [--device D]</c>: the OpenAI-compatible HTTP API (docs/HTTP.md) on the fused engine.
/// Progress goes to stderr; stdout gets one line, with the URL, once requests are accepted.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string?> model = CommonOptions.Model();
        Option<string?> preset = CommonOptions.Preset();
        var host = new Option<string?>("--host") { Description = "Listen address (default: flover.http.host, 127.0.0.1).", HelpName = "H" };
        var port = new Option<int?>("--port") { Description = "Listen port; 0 picks a free one (default: flover.http.port, 8000).", HelpName = "P" };
        var tensorParallel = new Option<int?>("--tensor-parallel") { Description = "Tensor-parallel shards (shorthand for --set flover.parallel.tensor=N).", HelpName = "N" };
        var dtype = new Option<string?>("--dtype") { Description = "Weight precision: auto, f32, f16 or bf16 (shorthand for --set flover.engine.weight-dtype=...).", HelpName = "DTYPE" };
        var kvDType = new Option<string?>("--kv-dtype") { Description = "KV-cache precision: f32, f16 or bf16 (shorthand for --set flover.engine.kv-dtype=...).", HelpName = "DTYPE" };
        var threads = new Option<int?>("--threads") { Description = "Kernel threads; 0 = one per core (shorthand for --set flover.engine.threads=N).", HelpName = "N" };
        Option<string?> device = EngineCommandOptions.DeviceOption();
        var command = new Command("serve", "Serve the OpenAI-compatible HTTP API (default: the gpt2 preset on 127.0.0.1:8000).")
        {
            model, preset, host, port, tensorParallel, dtype, kvDType, threads, device,
        };
        ConfigOptions config = ConfigOptions.AddTo(command);
        command.SetAction((parse, cancellation) =>
        {
            Config loaded = EngineCommandOptions.Shorthands(parse.GetValue(tensorParallel), parse.GetValue(dtype), parse.GetValue(threads), parse.GetValue(device), parse.GetValue(kvDType)).WithFallback(config.Load(parse));
            HttpSettings http = FloverSettings.From(loaded).Http;
            http = http with
            {
                Host = parse.GetValue(host) ?? http.Host,
                Port = parse.GetValue(port) ?? http.Port,
                ApiKeys = ApiKeys.Merge(http.ApiKeys, Environment.GetEnvironmentVariable(ApiKeys.EnvironmentVariable)),
            };
            string? modelArgument = parse.GetValue(model);
            // The gpt2 preset when neither --model nor --preset is given, so `serve` works on a fresh machine.
            string? presetName = modelArgument is null && parse.GetValue(preset) is null ? Gpt2Presets.Gpt2 : parse.GetValue(preset);
            return RunAsync(loaded, http, modelArgument, presetName, console, cancellation);
        });
        return command;
    }

    private static async Task<int> RunAsync(Config config, HttpSettings http, string? model, string? preset, CliConsole console, CancellationToken cancellation)
    {
        if (http.Port is < 0 or > 65535)
        {
            throw new FloverException($"--port must be from 0 to 65535, not {http.Port}.");
        }

        if (ClusterMode.From(config) is { Clustered: true, Frontend: false, Worker: false })
        {
            throw new FloverException("a node with only the shard role serves no requests: run it with flover node (docs/CLUSTER.md, \"Tensor parallelism across nodes\").");
        }

        // The port first: taken or not ours is one line before the model is loaded.
        System.Net.Sockets.Socket listener = ServeApp.Bind(http.Host, http.Port);
        EngineHost engine;
        try
        {
            engine = EngineHost.Load(config, model, preset, console.Error);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        await using (engine.ConfigureAwait(false))
        {
            return await ServeAsync(engine, http, listener, console, cancellation).ConfigureAwait(false);
        }
    }

    private static async Task<int> ServeAsync(EngineHost engine, HttpSettings http, System.Net.Sockets.Socket listener, CliConsole console, CancellationToken cancellation)
    {
        // The application owns the actor system (Akka.Hosting): it must stop before the engine host
        // frees the model, which the `await using` order guarantees.
        WebApplication app = ServeApp.Build(ServeSetup.For(engine, http), listener: listener);
        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync(cancellation).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                listener.Dispose();
                throw new FloverException($"Cannot listen on {http.Host}:{http.Port}: {e.Message}");
            }

            // Kestrel serves the socket from now on and closes it when it stops: our object must
            // never close the same descriptor again (it may by then be another file's).
            string url = ServeApp.Url(listener);
            listener.SafeHandle.SetHandleAsInvalid();

            // A cluster node whose actor system stops on its own (Akka gave up on the seed nodes,
            // or the cluster downed it) has nothing left to serve: stop the application too.
            ActorSystem system = app.Services.GetRequiredService<ActorSystem>();
            _ = system.WhenTerminated.ContinueWith(_ => app.Lifetime.StopApplication(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

            if (engine.Cluster.Worker)
            {
                console.Error.WriteLine("serve: warming up ...");
                await engine.WarmUpAsync(app.Services.GetRequiredService<EngineClient>(), http.RequestTimeout).ConfigureAwait(false);
            }
            else
            {
                // A frontend without an engine of its own: its requests wait for workers to join
                // (flover.cluster.worker-wait), /ready says whether one has.
                console.Error.WriteLine("serve: a cluster frontend; requests go to the workers that join");
            }
            console.Out.WriteLine($"flover serve: ready at {url} (model {engine.Model.Id})");
            console.Out.Flush();
            try
            {
                await app.WaitForShutdownAsync(cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C: stop below.
            }

            // Ctrl+C or SIGTERM: the host's stop drains first (DrainService, through Akka's
            // CoordinatedShutdown), then stops the actor system, then closes the listener.
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            if (app.Services.GetRequiredService<DrainService>().Result is (int inFlight, int cancelled))
            {
                console.Error.WriteLine($"serve: stopped; {inFlight} request(s) were in flight, {cancelled} cancelled at the drain timeout ({http.DrainTimeout.TotalSeconds:0.#} s).");
            }

            if (ClusterJoinFailure.Message(system, engine.Configuration, "serve") is { } joinFailed)
            {
                console.Error.WriteLine(joinFailed);
                return 1;
            }
        }

        return 0;
    }
}
