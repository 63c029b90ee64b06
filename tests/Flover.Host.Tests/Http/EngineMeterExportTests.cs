using System.Diagnostics.Metrics;
using System.Text;
using Flover.Actors.Inference;
using Flover.Host.Http;
using Prometheus;

namespace Flover.Host.Tests.Http;

/// <summary>The engine's meter on prometheus-net's native collectors: names, types, sums, advised buckets, gauges read at scrape, one meter only.</summary>
public sealed class EngineMeterExportTests
{
    [Fact]
    public async Task Counters_sum_histograms_use_the_advised_buckets_and_gauges_are_read_at_scrape()
    {
        using var meter = new Meter("test-" + Guid.NewGuid());
        using var other = new Meter("test-other-" + Guid.NewGuid());
        CollectorRegistry registry = Prometheus.Metrics.NewCustomRegistry();
        using var export = new EngineMeterExport(meter, registry);
        Counter<long> counter = meter.CreateCounter<long>("t_requests_total", description: "Requests.");
        Counter<double> seconds = meter.CreateCounter<double>("t_busy_seconds_total", "s", "Busy.");
        System.Diagnostics.Metrics.Histogram<double> histogram = meter.CreateHistogram("t_latency_seconds", "s", "Latency.", advice: EngineMetrics.Buckets(0.1, 1));
        int gauge = 3;
        meter.CreateObservableGauge("t_depth", () => gauge, description: "Depth.");
        other.CreateCounter<long>("t_elsewhere_total").Add(5);

        counter.Add(2);
        counter.Add(3);
        seconds.Add(0.25);
        seconds.Add(-1); // Ignored: a counter never goes down, and the measuring thread never sees an exception.
        histogram.Record(0.05);
        histogram.Record(0.5);
        histogram.Record(7);
        gauge = 9;
        string text = await ScrapeAsync(registry);

        Assert.Contains("# HELP t_requests_total Requests.\n# TYPE t_requests_total counter\nt_requests_total 5\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE t_busy_seconds_total counter\nt_busy_seconds_total 0.25\n", text, StringComparison.Ordinal);
        Assert.Contains("t_latency_seconds_bucket{le=\"0.1\"} 1\nt_latency_seconds_bucket{le=\"1\"} 2\nt_latency_seconds_bucket{le=\"+Inf\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("t_latency_seconds_sum 7.55\nt_latency_seconds_count 3\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE t_latency_seconds histogram\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE t_depth gauge\nt_depth 9\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("t_elsewhere_total", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_counter_that_never_counted_is_exported_as_zero()
    {
        using var meter = new Meter("test-" + Guid.NewGuid());
        CollectorRegistry registry = Prometheus.Metrics.NewCustomRegistry();
        using var export = new EngineMeterExport(meter, registry);
        meter.CreateCounter<long>("t_never_total");

        Assert.Contains("t_never_total 0\n", await ScrapeAsync(registry), StringComparison.Ordinal);
    }

    [Fact]
    public void An_instrument_kind_without_a_mapping_is_refused_when_published()
    {
        using var meter = new Meter("test-" + Guid.NewGuid());
        meter.CreateUpDownCounter<long>("t_up_down");

        NotSupportedException refused = Assert.Throws<NotSupportedException>(() => new EngineMeterExport(meter, Prometheus.Metrics.NewCustomRegistry()));
        Assert.Contains("t_up_down", refused.Message, StringComparison.Ordinal);
    }

    private static async Task<string> ScrapeAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
