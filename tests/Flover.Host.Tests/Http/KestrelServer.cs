using Flover.Configuration;
using Flover.Host.Http;
using Microsoft.AspNetCore.Builder;

namespace Flover.Host.Tests.Http;

/// <summary>
/// The tiny preset behind a real Kestrel listener on a free loopback port, with an engine of its
/// own (an engine's decode loop is the only caller of its model, so it cannot share the fixture's).
/// </summary>
internal sealed class KestrelServer : IAsyncDisposable
{
    private readonly EngineHost _engine;

    private KestrelServer(EngineHost engine, WebApplication app, Uri address)
    {
        _engine = engine;
        App = app;
        Address = address;
    }

    public WebApplication App { get; }

    /// <summary>The server's root, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Address { get; }

    /// <summary>Starts a server with the same settings as <paramref name="fixture"/>'s.</summary>
    public static Task<KestrelServer> StartAsync(TinyServerFixture fixture) => StartAsync(fixture.Engine.Model.Id);

    /// <summary>Starts a server of <paramref name="model"/> with the test servers' settings.</summary>
    public static async Task<KestrelServer> StartAsync(string model = TinyServerFixture.ModelId)
    {
        Config config = TinyServerFixture.TestConfig();
        HttpSettings http = FloverSettings.From(config).Http with { Host = "127.0.0.1", Port = 0 };
        EngineHost engine = EngineHost.Load(config, null, model, TextWriter.Null);
        WebApplication app = ServeApp.Build(ServeSetup.For(engine, http));
        await app.StartAsync();
        return new KestrelServer(engine, app, new Uri(app.Urls.Single() + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        // The application's actor system stops first: its decode loop uses the engine's model.
        await App.DisposeAsync();
        await _engine.DisposeAsync();
    }
}
