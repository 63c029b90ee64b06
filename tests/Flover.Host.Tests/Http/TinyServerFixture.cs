using Flover.Configuration;
using Flover.Gpu.Models;
using Flover.Host.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Flover.Host.Tests.Http;

/// <summary>
/// The tiny preset served in-process (TestServer), built once for the HTTP tests: 8 KV slots of
/// 256 positions, one kernel thread, a 64 KiB body limit so the 413 test stays small.
/// </summary>
public sealed class TinyServerFixture : IAsyncLifetime
{
    public const string ModelId = Gpt2Presets.Tiny;

    public const int BodyLimit = 64 * 1024;

    internal EngineHost Engine { get; private set; } = null!;

    internal WebApplication App { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    /// <summary>The server's admission point (what the endpoints and in-process clients call).</summary>
    internal EngineClient Admission => App.Services.GetRequiredService<EngineClient>();

    /// <summary>The configuration the test servers run with, plus <paramref name="overrides"/>.</summary>
    internal static Config TestConfig(params string[] overrides) => FloverConfiguration.Load(new ConfigurationSources
    {
        Overrides = ["flover.engine.threads = 1", "flover.engine.kv-slots = 8", $"flover.http.max-body-size = {BodyLimit}", "akka.loglevel = WARNING", .. overrides],
        Environment = _ => null,
        WorkingDirectory = AppContext.BaseDirectory,
    });

    public async Task InitializeAsync()
    {
        Config config = TestConfig();
        Engine = EngineHost.Load(config, null, Gpt2Presets.Tiny, TextWriter.Null);
        App = ServeApp.Build(ServeSetup.For(Engine, FloverSettings.From(config).Http), builder => builder.WebHost.UseTestServer());
        await App.StartAsync();
        Client = App.GetTestClient();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
        await Engine.DisposeAsync();
    }
}

/// <summary>The test classes sharing one <see cref="TinyServerFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class TinyServerCollection : ICollectionFixture<TinyServerFixture>
{
    public const string Name = "tiny server";
}
