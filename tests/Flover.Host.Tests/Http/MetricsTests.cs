using System.Net;
using System.Text;

namespace Flover.Host.Tests.Http;

/// <summary>/metrics: the Prometheus text of the engine's meter, every documented metric present, values that follow the requests.</summary>
public sealed class MetricsTests
{
    /// <summary>Every metric docs/OPERATIONS.md lists, with its type.</summary>
    public static TheoryData<string, string> Documented => new()
    {
        { "flover_requests_total", "counter" },
        { "flover_requests_running", "gauge" },
        { "flover_requests_waiting", "gauge" },
        { "flover_kv_slots_used", "gauge" },
        { "flover_kv_slots_free", "gauge" },
        { "flover_prompt_tokens_total", "counter" },
        { "flover_generation_tokens_total", "counter" },
        { "flover_iteration_seconds", "histogram" },
        { "flover_loop_overhead_seconds_total", "counter" },
        { "flover_kv_shuffle_moves_total", "counter" },
        { "flover_kv_shuffle_seconds_total", "counter" },
        { "flover_time_to_first_token_seconds", "histogram" },
        { "flover_time_per_output_token_seconds", "histogram" },
        { "flover_e2e_request_latency_seconds", "histogram" },
    };

    [Fact]
    public async Task After_requests_the_counters_gauges_and_histograms_follow_them()
    {
        await using OpsServer server = await OpsServer.StartAsync("flover.engine.kv-slots = 2");
        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage response = await server.Client.PostAsync("/v1/completions", new StringContent("""{"prompt":"Hello there","max_tokens":5,"ignore_eos":true}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using HttpResponseMessage bad = await server.Client.PostAsync("/v1/completions", new StringContent("""{"prompt":""}""", Encoding.UTF8, "application/json"));
        using HttpResponseMessage scrape = await server.Client.GetAsync("/metrics");
        string metrics = await scrape.Content.ReadAsStringAsync();

        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", scrape.Content.Headers.ContentType!.ToString());
        Assert.Equal(3, OpsServer.Sample(metrics, """flover_requests_total{finish_reason="length",status="200"}"""));
        Assert.Equal(1, OpsServer.Sample(metrics, """flover_requests_total{finish_reason="none",status="400"}"""));
        Assert.Equal(15, OpsServer.Sample(metrics, "flover_generation_tokens_total"));
        Assert.Equal(6, OpsServer.Sample(metrics, "flover_prompt_tokens_total")); // "Hello there" is 2 tokens.
        Assert.True(OpsServer.Idle(metrics, slots: 2), metrics);
        Assert.Equal(3, OpsServer.Sample(metrics, "flover_e2e_request_latency_seconds_count"));
        Assert.Equal(3, OpsServer.Sample(metrics, """flover_time_to_first_token_seconds_bucket{le="+Inf"}"""));
        Assert.Equal(3, OpsServer.Sample(metrics, "flover_time_per_output_token_seconds_count"));
        Assert.True(OpsServer.Sample(metrics, "flover_iteration_seconds_count") >= 5);
    }

    [Theory]
    [MemberData(nameof(Documented))]
    public async Task Every_documented_metric_is_exported_with_help_and_type(string name, string type)
    {
        await using OpsServer server = await OpsServer.StartAsync();
        using HttpResponseMessage response = await server.Client.PostAsync("/v1/completions", new StringContent("""{"prompt":"a","max_tokens":2}""", Encoding.UTF8, "application/json"));

        string metrics = await server.ScrapeAsync();

        Assert.Contains($"# TYPE {name} {type}\n", metrics, StringComparison.Ordinal);
        Assert.Contains($"# HELP {name} ", metrics, StringComparison.Ordinal);
        string operations = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "OPERATIONS.md"));
        Assert.Contains($"`{name}`", operations, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_histograms_keep_their_documented_buckets()
    {
        await using OpsServer server = await OpsServer.StartAsync();

        string metrics = await server.ScrapeAsync();

        string[] latency = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "120", "300", "600", "+Inf"];
        Assert.Equal(["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"], Buckets(metrics, "flover_iteration_seconds"));
        Assert.Equal(latency, Buckets(metrics, "flover_time_to_first_token_seconds"));
        Assert.Equal(latency, Buckets(metrics, "flover_e2e_request_latency_seconds"));
        Assert.Equal(["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.15", "0.2", "0.3", "0.5", "1", "2.5", "+Inf"], Buckets(metrics, "flover_time_per_output_token_seconds"));
    }

    internal static string RepositoryRoot()
    {
        string? folder = AppContext.BaseDirectory;
        while (folder is not null && !File.Exists(Path.Combine(folder, "Flover.sln")))
        {
            folder = Path.GetDirectoryName(folder);
        }

        return folder ?? throw new InvalidOperationException("Flover.sln not found above the test's folder.");
    }

    /// <summary>The <c>le</c> values of <paramref name="histogram"/>'s (unlabelled) buckets, in order.</summary>
    private static string[] Buckets(string metrics, string histogram) =>
        [.. metrics.Split('\n').Where(l => l.StartsWith(histogram + "_bucket{le=\"", StringComparison.Ordinal)).Select(l => l[(histogram.Length + 12)..l.IndexOf('"', histogram.Length + 12)])];
}
