using System.Text.Json;
using System.Xml.Linq;
using Flover.Host.Bench;

namespace Flover.Host.Tests.Bench;

public sealed class BenchOutputTests
{
    private static readonly string[] s_runKeys =
    [
        "scheduler", "memory_mode", "makespan_s", "requests", "output_tokens", "output_tokens_per_s", "iterations",
        "mean_live_sequences", "peak_kv_bytes", "loop_overhead_fraction", "ideal_makespan_s", "e2e_latency_s", "ttft_s", "tpot_s", "shuffles",
    ];

    [Fact]
    public void Results_json_has_the_issues_shape_with_snake_case_names()
    {
        using JsonDocument document = JsonDocument.Parse(Sample().ToJson());

        JsonElement root = document.RootElement;
        Assert.Equal(["workload", "runs"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("poisson", root.GetProperty("workload").GetProperty("arrival").GetString());
        Assert.Equal(2, root.GetProperty("workload").GetProperty("step_time_s").GetArrayLength());
        JsonElement run = Assert.Single(root.GetProperty("runs").EnumerateArray());
        Assert.Equal(s_runKeys, run.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["mean", "p50", "p90", "p99"], run.GetProperty("e2e_latency_s").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["count", "moves", "bytes", "time_s"], run.GetProperty("shuffles").EnumerateObject().Select(p => p.Name));
        Assert.Equal(2.5, run.GetProperty("makespan_s").GetDouble());
    }

    [Fact]
    public void Figures_of_one_seed_follow_the_definitions()
    {
        var measured = new RunMeasurement(
            [new RequestTiming(0, 1, 3, 3), new RequestTiming(1, 2, 5, 5)], Iterations: 6, MeanLiveSequences: 1.5, PeakSlots: 2,
            IterationSeconds: 4, ModelSeconds: 3, Shuffles: 1, ShuffleMoves: 2, ShuffleSeconds: 0.01, TokenIds: [[], []]);

        BenchRun run = BenchRun.From("fused", "shuffle", measured, kvBytesPerSlot: 100, idealMakespan: 4.5);

        Assert.Equal(5, run.MakespanS);
        Assert.Equal(8, run.OutputTokens);
        Assert.Equal(1.6, run.OutputTokensPerS, 9);
        Assert.Equal(200, run.PeakKvBytes);
        Assert.Equal(0.25, run.LoopOverheadFraction, 9);
        Assert.Equal(3.5, run.E2eLatencyS.Mean);
        Assert.Equal(1, run.TtftS.P50);
        // (3 - 1) / 2 = 1 and (5 - 2) / 4 = 0.75.
        Assert.Equal(0.875, run.TpotS.Mean, 9);
        Assert.Equal(new ShuffleFigures(1, 2, 200, 0.01), run.Shuffles);
    }

    [Fact]
    public void The_median_over_seeds_is_taken_figure_by_figure()
    {
        BenchRun a = Sample().Runs[0];
        BenchRun b = a with { MakespanS = 4, E2eLatencyS = new Distribution(9, 9, 9, 9) };
        BenchRun c = a with { MakespanS = 3, E2eLatencyS = new Distribution(1, 1, 1, 1) };

        BenchRun median = BenchRun.Median([a, b, c]);

        Assert.Equal(3, median.MakespanS);
        Assert.Equal(new Distribution(1, 1, 2, 2), median.E2eLatencyS);
    }

    [Fact]
    public void Charts_are_well_formed_svg_even_with_markup_in_series_names()
    {
        var runs = new Dictionary<string, RunMeasurement>
        {
            ["fused/indexed"] = Measurement(),
            ["a<b & \"c\""] = Measurement(),
        };

        XDocument latency = XDocument.Parse(SvgCharts.Latency(runs));
        XDocument steps = XDocument.Parse(SvgCharts.StepTime([0.01, 0.012, 0.02]));

        XNamespace svg = "http://www.w3.org/2000/svg";
        Assert.Equal(svg + "svg", latency.Root!.Name);
        Assert.Equal(4, latency.Descendants(svg + "circle").Count());
        Assert.Contains(latency.Descendants(svg + "text"), t => t.Value == "a<b & \"c\"");
        Assert.Single(steps.Descendants(svg + "polyline"));
        Assert.Equal(3, steps.Descendants(svg + "circle").Count());
    }

    private static RunMeasurement Measurement() =>
        new([new RequestTiming(0, 0.5, 1, 2), new RequestTiming(0.2, 0.6, 1.4, 2)], 3, 1.5, 2, 1, 0.9, 0, 0, 0, [[], []]);

    private static BenchResults Sample() => new(
        new BenchWorkload("preset 'tiny'", "poisson", 20, 2, 8, "64", [1], null, 2, 2, 8, 100, "2", [0.01, 0.02]),
        [new BenchRun("fused", "indexed", 2.5, 2, 128, 51.2, 70, 1.8, 1024, 0.02, 2.4, new Distribution(1, 1, 2, 2), new Distribution(0.1, 0.1, 0.2, 0.2), new Distribution(0.01, 0.01, 0.02, 0.02), new ShuffleFigures(0, 0, 0, 0))]);
}
