using Flover.Actors.Configuration;
using Flover.Host.Http;
using Microsoft.AspNetCore.Builder;

namespace Flover.Host.Tests.Http;

/// <summary>The fixture's engine behind a real Kestrel listener on a free loopback port.</summary>
internal sealed class KestrelServer : IAsyncDisposable
{
    private KestrelServer(WebApplication app, Uri address)
    {
        App = app;
        Address = address;
    }

    public WebApplication App { get; }

    /// <summary>The server's root, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Address { get; }

    public static async Task<KestrelServer> StartAsync(TinyServerFixture fixture)
    {
        HttpSettings http = FloverSettings.From(TinyServerFixture.TestConfig()).Http with { Host = "127.0.0.1", Port = 0 };
        WebApplication app = ServeApp.Build(new ServeContext(fixture.Engine.Model, fixture.Engine.Client, http, TimeProvider.System));
        await app.StartAsync();
        return new KestrelServer(app, new Uri(app.Urls.Single() + "/"));
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();
}
