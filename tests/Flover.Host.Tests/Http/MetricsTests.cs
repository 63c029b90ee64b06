using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Flover.Actors.Inference;
using Flover.Host.Http;

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
    public void The_exporter_sums_counters_per_label_set_buckets_histograms_cumulatively_and_reads_gauges_at_scrape()
    {
        using var meter = new Meter("test-" + Guid.NewGuid());
        using var other = new Meter("test-other-" + Guid.NewGuid());
        using var exporter = new PrometheusExporter(meter);
        Counter<long> counter = meter.CreateCounter<long>("t_requests_total", description: "Requests.");
        Histogram<double> histogram = meter.CreateHistogram("t_latency_seconds", "s", "Latency.", advice: EngineMetrics.Buckets(0.1, 1));
        int gauge = 3;
        meter.CreateObservableGauge("t_depth", () => gauge, description: "Depth.");
        other.CreateCounter<long>("t_elsewhere_total").Add(5);

        counter.Add(2, new KeyValuePair<string, object?>("status", "200"));
        counter.Add(3, new KeyValuePair<string, object?>("status", "200"));
        counter.Add(1, new KeyValuePair<string, object?>("status", "a\"b\\c"));
        histogram.Record(0.05);
        histogram.Record(0.5);
        histogram.Record(7);
        gauge = 9;
        string text = exporter.Scrape();

        Assert.Contains("# TYPE t_requests_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("t_requests_total{status=\"200\"} 5\n", text, StringComparison.Ordinal);
        Assert.Contains("t_requests_total{status=\"a\\\"b\\\\c\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("t_latency_seconds_bucket{le=\"0.1\"} 1\nt_latency_seconds_bucket{le=\"1\"} 2\nt_latency_seconds_bucket{le=\"+Inf\"} 3\nt_latency_seconds_sum 7.55\nt_latency_seconds_count 3\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE t_depth gauge\nt_depth 9\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("t_elsewhere_total", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_counter_that_never_counted_is_exported_as_zero()
    {
        using var meter = new Meter("test-" + Guid.NewGuid());
        using var exporter = new PrometheusExporter(meter);
        meter.CreateCounter<long>("t_never_total");

        Assert.Contains("t_never_total 0\n", exporter.Scrape(), StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        string? folder = AppContext.BaseDirectory;
        while (folder is not null && !File.Exists(Path.Combine(folder, "Flover.sln")))
        {
            folder = Path.GetDirectoryName(folder);
        }

        return folder ?? throw new InvalidOperationException("Flover.sln not found above the test's folder.");
    }
}
