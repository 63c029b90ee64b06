using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flover.Host.Bench;

/// <summary>The workload and engine a bench ran (the <c>workload</c> object of results.json).</summary>
internal sealed record BenchWorkload(
    string Model,
    string Arrival,
    double IntervalMs,
    int Requests,
    int PromptLen,
    string OutputLen,
    IReadOnlyList<int> Seeds,
    float? Temperature,
    int Threads,
    int KvSlots,
    int DynamicMaxBatchSize,
    double DynamicMaxQueueDelayMs,
    string InstancesCount,
    IReadOnlyList<double> StepTimeS)
{
    /// <summary>How the instances baseline's instances run side by side on this device.</summary>
    public string InstancesConcurrency { get; init; } = "";
}

/// <summary>KV shuffles applied in a run (shuffle memory mode only).</summary>
internal sealed record ShuffleFigures(double Count, double Moves, double Bytes, double TimeS);

/// <summary>One scheduler × memory mode: every figure the median over seeds.</summary>
internal sealed record BenchRun(
    string Scheduler,
    string MemoryMode,
    double MakespanS,
    int Requests,
    double OutputTokens,
    double OutputTokensPerS,
    double Iterations,
    double MeanLiveSequences,
    double PeakKvBytes,
    double LoopOverheadFraction,
    double IdealMakespanS,
    Distribution E2eLatencyS,
    Distribution TtftS,
    Distribution TpotS,
    ShuffleFigures Shuffles)
{
    /// <summary>One seed's figures from its measurement.</summary>
    public static BenchRun From(string scheduler, string memoryMode, RunMeasurement run, long kvBytesPerSlot, double idealMakespan)
    {
        IReadOnlyList<RequestTiming> requests = run.Requests;
        double firstArrival = requests.Min(r => r.Arrival);
        double makespan = requests.Max(r => r.LastToken) - firstArrival;
        int tokens = requests.Sum(r => r.Tokens);
        return new BenchRun(
            scheduler,
            memoryMode,
            makespan,
            requests.Count,
            tokens,
            makespan > 0 ? tokens / makespan : 0,
            run.Iterations,
            run.MeanLiveSequences,
            (double)run.PeakSlots * kvBytesPerSlot,
            run.IterationSeconds > 0 ? Math.Max(0, 1 - (run.ModelSeconds / run.IterationSeconds)) : 0,
            idealMakespan,
            Distribution.Of([.. requests.Select(r => r.LastToken - r.Arrival)]),
            Distribution.Of([.. requests.Select(r => r.FirstToken - r.Arrival)]),
            Distribution.Of([.. requests.Where(r => r.Tokens > 1).Select(r => (r.LastToken - r.FirstToken) / (r.Tokens - 1))]),
            new ShuffleFigures(run.Shuffles, run.ShuffleMoves, (double)run.ShuffleMoves * kvBytesPerSlot, run.ShuffleSeconds));
    }

    /// <summary>The median over seeds of every figure of one scheduler × memory mode.</summary>
    public static BenchRun Median(IReadOnlyList<BenchRun> seeds)
    {
        double M(Func<BenchRun, double> figure) => Statistics.Median([.. seeds.Select(figure)]);
        BenchRun first = seeds[0];
        return new BenchRun(
            first.Scheduler,
            first.MemoryMode,
            M(r => r.MakespanS),
            first.Requests,
            M(r => r.OutputTokens),
            M(r => r.OutputTokensPerS),
            M(r => r.Iterations),
            M(r => r.MeanLiveSequences),
            M(r => r.PeakKvBytes),
            M(r => r.LoopOverheadFraction),
            M(r => r.IdealMakespanS),
            Distribution.Median([.. seeds.Select(r => r.E2eLatencyS)]),
            Distribution.Median([.. seeds.Select(r => r.TtftS)]),
            Distribution.Median([.. seeds.Select(r => r.TpotS)]),
            new ShuffleFigures(M(r => r.Shuffles.Count), M(r => r.Shuffles.Moves), M(r => r.Shuffles.Bytes), M(r => r.Shuffles.TimeS)));
    }
}

/// <summary>DIR/results.json: the workload and one entry per run.</summary>
internal sealed record BenchResults(BenchWorkload Workload, IReadOnlyList<BenchRun> Runs)
{
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);
}
