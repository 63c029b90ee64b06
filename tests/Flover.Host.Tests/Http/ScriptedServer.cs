using System.Threading.Channels;
using Akka.Actor;
using Flover.Actors.Inference;
using Flover.Configuration;
using Flover.Gpu.Tokenization;
using Flover.Host.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Flover.Host.Tests.Http;

/// <summary>
/// A server whose "engine" is the test: each Generate is handed over with its client (the
/// request's bridge actor), and the test answers as the engine's request actor would, through
/// a recording actor that also captures what the server sends back (Cancel).
/// </summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private readonly Channel<(Generate Request, IActorRef Client)> _requests;
    private readonly ActorSystem _system;

    private ScriptedServer(Channel<(Generate, IActorRef)> requests, WebApplication app)
    {
        _requests = requests;
        App = app;
        _system = app.Services.GetRequiredService<ActorSystem>();
        Admission = app.Services.GetRequiredService<EngineClient>();
    }

    public WebApplication App { get; }

    /// <summary>The server's admission point (its drain state, its metrics).</summary>
    public EngineClient Admission { get; }

    public HttpClient Client => App.GetTestClient();

    /// <summary>The request a helper took from <see cref="NextRequestAsync"/>, for the test that called it.</summary>
    public Task<ScriptedRequest>? LastRequest { get; set; }

    /// <summary>Starts a server with <paramref name="overrides"/> over the test configuration.</summary>
    public static async Task<ScriptedServer> StartAsync(params string[] overrides)
    {
        Config config = TinyServerFixture.TestConfig(overrides);
        var model = new ServedModel("tiny", 256, 50257, 50256, Gpt2Tokenizer.Default, DateTimeOffset.UnixEpoch);
        Channel<(Generate, IActorRef)> requests = Channel.CreateUnbounded<(Generate, IActorRef)>();
        // The scripted engine takes the real one's place in the registry, where the server looks it up.
        var setup = new ServeSetup(model, FloverSettings.From(config).Http, TimeProvider.System, config, (system, registry) =>
            registry.Register<InferenceEngine>(system.ActorOf(Props.Create(() => new Engine(r => requests.Writer.TryWrite(r))), "engine")), null);
        WebApplication app = ServeApp.Build(setup, b => b.WebHost.UseTestServer());
        var server = new ScriptedServer(requests, app);
        await app.StartAsync();
        return server;
    }

    /// <summary>The next request the engine receives, and an actor to answer as (its received messages come out of <c>Received</c>).</summary>
    public async Task<ScriptedRequest> NextRequestAsync()
    {
        (Generate request, IActorRef client) = await _requests.Reader.ReadAsync();
        Channel<object> received = Channel.CreateUnbounded<object>();
        IActorRef self = _system.ActorOf(Props.Create(() => new Recorder(received.Writer)));
        return new ScriptedRequest(request, client, self, received.Reader);
    }

    /// <summary>Stops <paramref name="actor"/> (a request's bridge: as if the actor system shut down under it).</summary>
    public void Stop(IActorRef actor) => _system.Stop(actor);

    public async ValueTask DisposeAsync()
    {
        // Disposing the application stops its actor system (Akka.Hosting).
        await App.DisposeAsync();
        Admission.Metrics.Dispose();
    }

    private sealed class Engine : ReceiveActor
    {
        public Engine(Action<(Generate, IActorRef)> handOver) => Receive<Generate>(g => handOver((g, Sender)));
    }

    private sealed class Recorder : ReceiveActor
    {
        public Recorder(ChannelWriter<object> received) => ReceiveAny(m => received.TryWrite(m));
    }
}

/// <summary>One request as the scripted engine sees it.</summary>
internal sealed record ScriptedRequest(Generate Request, IActorRef Client, IActorRef Self, ChannelReader<object> Received)
{
    public void Send(object message) => Client.Tell(message, Self);
}
