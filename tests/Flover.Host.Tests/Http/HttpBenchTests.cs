using System.Text.Json;
using Flover.Host.Tests.Cli;

namespace Flover.Host.Tests.Http;

/// <summary><c>flover bench --url</c> replays the bench workload as streaming requests against a real server.</summary>
[Collection(TinyServerCollection.Name)]
[Trait("Category", "Slow")]
public sealed class HttpBenchTests(TinyServerFixture fixture) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flover-http-bench-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Every_request_of_the_workload_is_replayed_and_timed()
    {
        await using KestrelServer server = await KestrelServer.StartAsync(fixture);

        CliResult result = await Task.Run(() => CliRunner.Run(
            "bench", "--url", server.Address.ToString(), "--preset", "tiny", "--requests", "5", "--prompt-len", "4",
            "--output-len", "uniform:2:5", "--interval-ms", "3", "--seed", "3", "--out", _directory, "--json"));

        Assert.True(result.ExitCode == 0, result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement run = Assert.Single(document.RootElement.GetProperty("runs").EnumerateArray());
        Assert.Equal("http", run.GetProperty("scheduler").GetString());
        Assert.Equal(5, run.GetProperty("requests").GetInt32());
        Assert.InRange(run.GetProperty("output_tokens").GetDouble(), 10, 25);
        Assert.True(run.GetProperty("ttft_s").GetProperty("p50").GetDouble() > 0);
        Assert.True(run.GetProperty("ttft_s").GetProperty("p50").GetDouble() <= run.GetProperty("e2e_latency_s").GetProperty("p50").GetDouble());
        Assert.True(File.Exists(Path.Combine(_directory, "latency.svg")));
    }

    [Fact]
    public void A_url_nobody_serves_is_a_user_error_naming_it()
    {
        CliResult result = CliRunner.Run("bench", "--url", "http://127.0.0.1:1/", "--preset", "tiny", "--requests", "1", "--out", _directory);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no flover serve answers GET /v1/models", result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
