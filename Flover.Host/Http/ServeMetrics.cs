using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Host.Http;

/// <summary>
/// The per-request instruments of <c>flover serve</c>, on the engine's meter: one count per
/// answered generation request by HTTP status and finish reason, and the latency histograms
/// (time to first token, time per output token, end to end) of requests the engine finished.
/// </summary>
internal sealed class ServeMetrics
{
    /// <summary>The status recorded for a request whose client disconnected (nginx's convention: nobody saw a status).</summary>
    public const int ClientClosedRequest = 499;

    private static readonly double[] s_latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
    private static readonly double[] s_perTokenBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5];

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _timePerOutputToken;
    private readonly Histogram<double> _endToEnd;

    public ServeMetrics(Meter meter)
    {
        _requests = meter.CreateCounter<long>("flover_requests_total", description: "Generation requests answered, by HTTP status (499: the client disconnected) and engine finish reason (none: never generated).");
        _timeToFirstToken = meter.CreateHistogram("flover_time_to_first_token_seconds", "s", "From admission to the first generated token.", advice: EngineMetrics.Buckets(s_latencyBuckets));
        _timePerOutputToken = meter.CreateHistogram("flover_time_per_output_token_seconds", "s", "Mean time between generated tokens of one request, after the first.", advice: EngineMetrics.Buckets(s_perTokenBuckets));
        _endToEnd = meter.CreateHistogram("flover_e2e_request_latency_seconds", "s", "From admission to the engine's last answer.", advice: EngineMetrics.Buckets(s_latencyBuckets));
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
        _requests.Add(1, new KeyValuePair<string, object?>("status", status.ToString(CultureInfo.InvariantCulture)), new KeyValuePair<string, object?>("finish_reason", ReasonLabel(reason)));
        if (timing is null || timing.Reason is null || reason is FinishReason.Cancelled or FinishReason.Error)
        {
            return;
        }

        _endToEnd.Record(Stopwatch.GetElapsedTime(timing.Started, timing.Finished).TotalSeconds);
        if (timing.Tokens > 0)
        {
            _timeToFirstToken.Record(Stopwatch.GetElapsedTime(timing.Started, timing.FirstToken).TotalSeconds);
        }

        if (timing.Tokens > 1)
        {
            _timePerOutputToken.Record(Stopwatch.GetElapsedTime(timing.FirstToken, timing.Finished).TotalSeconds / (timing.Tokens - 1));
        }
    }
}
