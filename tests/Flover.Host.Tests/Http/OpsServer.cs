using System.Globalization;
using Flover.Configuration;
using Flover.Gpu.Models;
using Flover.Host.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Flover.Host.Tests.Http;

/// <summary>
/// A tiny-preset server of its own (in-process, TestServer) for tests that change engine or
/// HTTP settings, with the decode loop behind a <see cref="StepGate"/> and the metrics at hand.
/// </summary>
internal sealed class OpsServer : IAsyncDisposable
{
    private OpsServer(EngineHost engine, WebApplication app, StepGate gate, ServeContext serve)
    {
        Engine = engine;
        App = app;
        Gate = gate;
        Serve = serve;
        Client = app.GetTestClient();
    }

    public EngineHost Engine { get; }

    public WebApplication App { get; }

    public StepGate Gate { get; }

    public ServeContext Serve { get; }

    public HttpClient Client { get; }

    public static async Task<OpsServer> StartAsync(params string[] overrides)
    {
        Config config = TinyServerFixture.TestConfig(overrides);
        // The shard makes the gate when it loads its model, once the actor system has started.
        var gateMade = new TaskCompletionSource<StepGate>(TaskCreationOptions.RunContinuationsAsynchronously);
        EngineHost engine = EngineHost.Load(config, null, Gpt2Presets.Tiny, TextWriter.Null, model =>
        {
            var gate = new StepGate(model);
            gateMade.TrySetResult(gate);
            return gate;
        });
        WebApplication app = ServeApp.Build(ServeSetup.For(engine, FloverSettings.From(config).Http), builder => builder.WebHost.UseTestServer());
        ServeContext serve = app.Services.GetRequiredService<ServeContext>();
        await app.StartAsync();
        StepGate made = await gateMade.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return new OpsServer(engine, app, made, serve);
    }

    /// <summary>The /metrics text.</summary>
    public Task<string> ScrapeAsync() => Client.GetStringAsync("/metrics");

    /// <summary>One sample of the /metrics text (<paramref name="series"/> is the name with its labels as printed), or null when absent.</summary>
    public static double? Sample(string metrics, string series)
    {
        foreach (string line in metrics.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>Polls /metrics until <paramref name="done"/> holds (each poll yields to the server; bounded by the test's own timeout).</summary>
    public async Task<string> MetricsWhenAsync(Func<string, bool> done)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            string metrics = await ScrapeAsync();
            if (done(metrics))
            {
                return metrics;
            }

            // A poll, not a timing assumption: the condition decides, the delay only spaces scrapes.
            await Task.Delay(5, limit.Token);
        }
    }

    /// <summary>With the gate held and the loop waiting at it: lets it through one Decode at a time until <paramref name="done"/> holds for /metrics.</summary>
    public async Task StepUntilAsync(Func<string, bool> done)
    {
        string metrics;
        while (!done(metrics = await ScrapeAsync()))
        {
            Gate.Step();
            // Bounded so a condition that never comes fails the test instead of hanging it (the
            // loop stops calling Decode once it has no work).
            if (!await Gate.Waiting.WaitAsync(TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException($"The decode loop stopped before the condition held; /metrics:\n{metrics}");
            }
        }
    }

    /// <summary>True when the engine holds nothing: no request running or waiting, every KV slot free.</summary>
    public static bool Idle(string metrics, int slots) =>
        Sample(metrics, "flover_requests_running") == 0 && Sample(metrics, "flover_requests_waiting") == 0
        && Sample(metrics, "flover_kv_slots_used") == 0 && Sample(metrics, "flover_kv_slots_free") == slots;

    public async ValueTask DisposeAsync()
    {
        Gate.Open();
        Client.Dispose();
        await App.DisposeAsync();
        await Engine.DisposeAsync();
    }
}
