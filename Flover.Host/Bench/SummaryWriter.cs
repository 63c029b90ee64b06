using System.Globalization;
using System.Text;

namespace Flover.Host.Bench;

/// <summary>DIR/summary.md: the workload, one table row per run, fused's speedups, and the definitions.</summary>
internal static class SummaryWriter
{
    /// <summary>What each figure means (also in DIR/README.md).</summary>
    public const string Definitions = """
        ## Definitions

        - arrival = the scheduled injection time (each request is sent to the engine then, in real time, and fused at the decode loop's next iteration);
        - e2e latency = last token delivered − arrival; TTFT = first generated token delivered − arrival;
          TPOT = (e2e − TTFT) / (tokens − 1); a token is delivered when the request's client actor receives it;
        - makespan = last completion − first arrival; mean live sequences = mean over iterations of the rows that belong to running requests;
        - iterations = scheduler steps that ran the model (for instances, one step collects the tokens the free-running instances produced meanwhile);
        - peak KV = most KV slots held at once (a dynamic batch holds its finished rows' slots) × bytes per slot;
        - loop overhead = share of iteration time (plan to completion) outside model calls (admission, sampling, the hops to the shards and back); for instances, outside the busiest instance's model calls (an approximation: they run free);
        - ideal makespan = the fused schedule the measured step time t(n) allows (every arrival joins the next iteration, one token per sequence per iteration, nothing else costs time);
        - percentiles by nearest rank; with several seeds, each figure is the median over seeds.

        """;

    public static string Write(BenchResults results, string command)
    {
        BenchWorkload w = results.Workload;
        var text = new StringBuilder();
        text.AppendLine("# flover bench");
        text.AppendLine();
        text.AppendLine(Invariant($"`{command}`"));
        text.AppendLine();
        text.AppendLine(Invariant($"{w.Model}, {w.Threads} thread(s); {w.Requests} requests, {w.Arrival} arrivals every {w.IntervalMs} ms (mean), {w.PromptLen}-token prompts, output {w.OutputLen} tokens (EOS ignored), {(w.Temperature is { } t ? $"temperature {t}" : "greedy")}; seeds {string.Join(", ", w.Seeds)} (every figure the median over seeds). dynamic: batch {w.DynamicMaxBatchSize}, window {w.DynamicMaxQueueDelayMs} ms; instances: {w.InstancesCount}{(w.InstancesConcurrency.Length > 0 ? $" ({w.InstancesConcurrency})" : "")}; fused: {w.KvSlots} KV slots."));
        text.AppendLine();
        text.AppendLine("| run | makespan s | ideal s | tokens/s | iterations | mean live | peak KV MiB | loop overhead | e2e mean s | e2e p90 s | TTFT p50 s | TPOT p50 ms | shuffles (moves) |");
        text.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (BenchRun r in results.Runs)
        {
            text.AppendLine(Invariant(
                $"| {BenchRunner.Label(r.Scheduler, r.MemoryMode)} | {r.MakespanS:F2} | {r.IdealMakespanS:F2} | {r.OutputTokensPerS:F1} | {r.Iterations:F0} | {r.MeanLiveSequences:F1} | {r.PeakKvBytes / 1048576:F1} | {r.LoopOverheadFraction:P1} | {r.E2eLatencyS.Mean:F2} | {r.E2eLatencyS.P90:F2} | {r.TtftS.P50:F3} | {r.TpotS.P50 * 1000:F1} | {r.Shuffles.Count:F0} ({r.Shuffles.Moves:F0}) |"));
        }

        List<BenchRun> fused = [.. results.Runs.Where(r => r.Scheduler == "fused")];
        if (fused.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Fused's speedup over each other run (makespan; mean e2e latency):");
            text.AppendLine();
            foreach (BenchRun f in fused)
            {
                foreach (BenchRun other in results.Runs.Where(r => r.Scheduler != "fused"))
                {
                    text.AppendLine(Invariant(
                        $"- {BenchRunner.Label(f.Scheduler, f.MemoryMode)} vs {BenchRunner.Label(other.Scheduler, other.MemoryMode)}: {Ratio(other.MakespanS, f.MakespanS)} makespan, {Ratio(other.E2eLatencyS.Mean, f.E2eLatencyS.Mean)} mean e2e"));
                }
            }
        }

        text.AppendLine();
        text.Append(Definitions);
        return text.ToString();
    }

    /// <summary>DIR/README.md: what the files are and what each figure means.</summary>
    public static string Readme(string command) =>
        "# flover bench output\n\n" +
        $"Written by `{command}`.\n\n" +
        "- `results.json`: the workload (with the measured step time t(n) in `step_time_s`, n = 1, 2, ...) and one entry per scheduler × memory mode;\n" +
        "- `summary.md`: the same as a table, with fused's speedups;\n" +
        "- `latency.svg`: per-request e2e latency against arrival time (first seed), one series per run;\n" +
        "- `step-time.svg`: t(n).\n\n" +
        Definitions;

    private static string Ratio(double baseline, double fused) => fused > 0 ? Invariant($"{baseline / fused:F2}x") : "n/a";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
