using System.Diagnostics;
using System.Globalization;
using Flover.Gpu.Sampling;
using Flover.Host.Http.Events;
using Prometheus;

namespace Flover.Host.Http;

/// <summary>
/// The per-request metrics of <c>flover serve</c>: one count per answered generation request by
/// HTTP status and finish reason, and the latency histograms (time to first token, time per output
/// token, end to end) of requests the engine finished. They are host code, so they are
/// prometheus-net collectors on the server's registry (labels declared here), not instruments on
/// the engine's meter.
/// </summary>
internal sealed class ServeMetrics
{
    /// <summary>The status recorded for a request whose client disconnected (nginx's convention: nobody saw a status).</summary>
    public const int ClientClosedRequest = 499;

    private static readonly double[] s_latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
    private static readonly double[] s_perTokenBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5];

    private readonly Counter _requests;
    private readonly Histogram _timeToFirstToken;
    private readonly Histogram _timePerOutputToken;
    private readonly Histogram _endToEnd;

    /// <param name="registry">The server's registry (a private one where nothing scrapes, as for an embedded engine).</param>
    /// <param name="recent">Where finished requests' latencies are kept for the engine view (a private list when null).</param>
    public ServeMetrics(CollectorRegistry registry, RecentRequests? recent = null)
    {
        Recent = recent ?? new RecentRequests();
        MetricFactory factory = Prometheus.Metrics.WithCustomRegistry(registry);
        // Labels in name order: the series read {finish_reason="…",status="…"}, as they always have.
        _requests = factory.CreateCounter("flover_requests_total", "Generation requests answered, by HTTP status (499: the client disconnected) and engine finish reason (none: never generated).", ["finish_reason", "status"]);
        _timeToFirstToken = factory.CreateHistogram("flover_time_to_first_token_seconds", "From admission to the first generated token.", new HistogramConfiguration { Buckets = s_latencyBuckets });
        _timePerOutputToken = factory.CreateHistogram("flover_time_per_output_token_seconds", "Mean time between generated tokens of one request, after the first.", new HistogramConfiguration { Buckets = s_perTokenBuckets });
        _endToEnd = factory.CreateHistogram("flover_e2e_request_latency_seconds", "From admission to the engine's last answer.", new HistogramConfiguration { Buckets = s_latencyBuckets });
    }

    /// <summary>The finish reason's label: the engine's reason in snake case, or <c>none</c>.</summary>
    public static string ReasonLabel(FinishReason? reason) => reason switch
    {
        null => "none",
        FinishReason.StopSequence => "stop_sequence",
        FinishReason r => r.ToString().ToLowerInvariant(),
    };

    /// <summary>Records one answered request (<paramref name="timing"/> is null when it was never admitted).</summary>
    public void Record(int status, RequestTiming? timing)
    {
        // A client that left may leave before Completed(Cancelled) arrives: its reason is "cancelled" either way.
        FinishReason? reason = status == ClientClosedRequest ? FinishReason.Cancelled : timing?.Reason;
        _requests.WithLabels(ReasonLabel(reason), status.ToString(CultureInfo.InvariantCulture)).Inc();
        if (timing is null || timing.Reason is null || reason is FinishReason.Cancelled or FinishReason.Error)
        {
            return;
        }

        _endToEnd.Observe(Stopwatch.GetElapsedTime(timing.Started, timing.Finished).TotalSeconds);
        if (timing.Tokens > 0)
        {
            _timeToFirstToken.Observe(Stopwatch.GetElapsedTime(timing.Started, timing.FirstToken).TotalSeconds);
        }

        double? perToken = null;
        if (timing.Tokens > 1)
        {
            perToken = Stopwatch.GetElapsedTime(timing.FirstToken, timing.Finished).TotalSeconds / (timing.Tokens - 1);
            _timePerOutputToken.Observe(perToken.Value);
        }

        if (timing.Tokens > 0)
        {
            Recent.Add(new RecentRequest(Stopwatch.GetElapsedTime(timing.Started, timing.FirstToken).TotalMilliseconds, perToken * 1000, timing.Tokens, ReasonLabel(reason)));
        }
    }

    /// <summary>The latest finished requests' latencies (the engine view's table).</summary>
    public RecentRequests Recent { get; }
}
