using System.Diagnostics.Metrics;

namespace Flover.Actors.Inference;

/// <summary>
/// The engine's instruments (System.Diagnostics.Metrics), on one <see cref="Meter"/> per engine so
/// two engines in one process (tests) never mix their numbers. The decode loop publishes its
/// state here after every iteration; any .NET metrics tool can listen to <see cref="Meter"/>, and
/// <c>flover serve</c> exports it on /metrics with its own request metrics (docs/OPERATIONS.md
/// lists every metric).
/// </summary>
public sealed class EngineMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Flover";

    // Written by the decode loop's thread after each iteration, read by a scrape on another
    // thread: each value on its own is current; the four together are not one snapshot (a scrape
    // may straddle an iteration), which a gauge does not promise anyway.
    private int _running;
    private int _waiting;
    private int _slotsUsed;
    private int _slotsFree;

    /// <summary>Creates the meter and the engine's instruments; the KV gauges start at <paramref name="kvSlots"/> free.</summary>
    /// <param name="kvSlots">The model's KV slots.</param>
    public EngineMetrics(int kvSlots)
    {
        _slotsFree = kvSlots;
        Meter = new Meter(MeterName);
        Meter.CreateObservableGauge("flover_requests_running", () => Volatile.Read(ref _running), description: "Requests holding a KV slot (being prefilled or decoded).");
        Meter.CreateObservableGauge("flover_requests_waiting", () => Volatile.Read(ref _waiting), description: "Requests waiting for admission to the decode loop.");
        Meter.CreateObservableGauge("flover_kv_slots_used", () => Volatile.Read(ref _slotsUsed), description: "KV cache slots in use.");
        Meter.CreateObservableGauge("flover_kv_slots_free", () => Volatile.Read(ref _slotsFree), description: "KV cache slots free.");
        PromptTokens = Meter.CreateCounter<long>("flover_prompt_tokens_total", description: "Prompt tokens prefilled (a request re-admitted after a failed step counts again).");
        GenerationTokens = Meter.CreateCounter<long>("flover_generation_tokens_total", description: "Tokens generated.");
        Iterations = Meter.CreateHistogram("flover_iteration_seconds", "s", "Time of one decode-loop iteration (admission, prefill, one fused decode step, sampling).", advice: Buckets(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5));
        ShuffleMoves = Meter.CreateCounter<long>("flover_kv_shuffle_moves_total", description: "Sequences moved between KV slots by compaction (memory-mode shuffle).");
        LoopOverheadSeconds = Meter.CreateCounter<double>("flover_loop_overhead_seconds_total", "s", "Time the decode loop spent on work that is not the shards' computing: its next step waiting behind registrations, cancellations and probes, planning and sampling, and the hand-offs to the shards and back. Over flover_iteration_seconds' sum plus the waits between steps, the loop's overhead.");
        ShuffleSeconds = Meter.CreateCounter<double>("flover_kv_shuffle_seconds_total", "s", "Time the shards spent copying KV slots for compaction (rank 0's, inside the steps that applied the moves; planning runs on the shuffle actor and is not included).");
    }

    /// <summary>The meter every Flover instrument of this engine lives on.</summary>
    public Meter Meter { get; }

    internal Counter<long> PromptTokens { get; }

    internal Counter<long> GenerationTokens { get; }

    internal Histogram<double> Iterations { get; }

    internal Counter<long> ShuffleMoves { get; }

    internal Counter<double> ShuffleSeconds { get; }

    internal Counter<double> LoopOverheadSeconds { get; }

    /// <summary>Histogram advice with these bucket upper bounds (in the instrument's unit).</summary>
    public static InstrumentAdvice<double> Buckets(params double[] bounds) => new() { HistogramBucketBoundaries = bounds };

    /// <summary>The state the decode loop published last (what the four gauges read), for checks after the actors have stopped.</summary>
    public EngineStatus LastPublished => new(Volatile.Read(ref _running), Volatile.Read(ref _waiting), Volatile.Read(ref _slotsUsed), Volatile.Read(ref _slotsFree));

    /// <summary>The decode loop's state after an iteration (or a change between iterations).</summary>
    internal void PublishLoopState(IDecodeScheduler loop)
    {
        Volatile.Write(ref _running, loop.RunningCount);
        Volatile.Write(ref _waiting, loop.WaitingCount);
        Volatile.Write(ref _slotsUsed, loop.SlotsUsed);
        Volatile.Write(ref _slotsFree, loop.SlotsFree);
    }

    /// <inheritdoc />
    public void Dispose() => Meter.Dispose();
}
