using System.Threading.Channels;
using Flover.Actors.Configuration;
using Flover.Actors.Inference;
using Flover.Actors.Runtime;
using Flover.Gpu.Tokenization;
using Flover.Host.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;

namespace Flover.Host.Tests.Http;

/// <summary>
/// A server whose "engine" is the test: each Generate is handed over with its client (the
/// request's bridge actor), and the test answers as the engine's request actor would, through
/// a recording actor that also captures what the server sends back (Cancel).
/// </summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly Channel<(Generate Request, IActorRef Client)> _requests = Channel.CreateUnbounded<(Generate, IActorRef)>();

    private ScriptedServer(ActorSystem system, WebApplication app, EngineClient engine)
    {
        _system = system;
        App = app;
        Admission = engine;
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
        ActorSystem system = ActorSystem.Create("scripted", config);
        var model = new ServedModel("tiny", 256, 50257, 50256, Gpt2Tokenizer.Default, DateTimeOffset.UnixEpoch);
        ScriptedServer server = null!;
        IActorRef engine = system.ActorOf(Props.Create(() => new Engine(r => server._requests.Writer.TryWrite(r))));
        var client = new EngineClient(system, engine);
        WebApplication app = ServeApp.Build(new ServeContext(model, client, FloverSettings.From(config).Http, TimeProvider.System), b => b.WebHost.UseTestServer());
        server = new ScriptedServer(system, app, client);
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
        await App.DisposeAsync();
        await _system.Terminate();
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
