using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Host.Bench;

/// <summary>
/// <c>flover bench --url</c>: the same generated workload as the in-process bench (the model given
/// by <c>--preset</c>/<c>--model</c> fixes the vocabulary the prompts are drawn from), replayed per
/// seed against a running server; one run, labelled <c>http</c>, with the request figures only
/// (the server's loop counters live in its /metrics).
/// </summary>
internal static class HttpBenchRunner
{
    public const string Label = "http";

    public static (BenchResults Results, IReadOnlyDictionary<string, RunMeasurement> FirstSeed) Run(BenchSettings settings, Uri server, TextWriter log)
    {
        string source;
        int vocabulary;
        // Only the name and the vocabulary are read: a preset's weights are never made.
        using (AnyFamilyWeights weights = ModelSource.OpenAnyFamily(settings.Model, settings.Preset, TensorDType.F32, deferPreset: true))
        {
            source = weights.Source;
            vocabulary = weights.VocabularySize;
        }

        var spec = new WorkloadSpec(settings.Arrival, settings.IntervalMs, settings.Requests, settings.PromptLength, settings.OutputLength, vocabulary);
        var runs = new List<BenchRun>();
        var firstSeed = new Dictionary<string, RunMeasurement>();
        foreach (int seed in settings.Seeds)
        {
            IReadOnlyList<BenchRequest> workload = WorkloadGenerator.Generate(spec, seed);
            log.WriteLine($"bench: seed {seed}, {settings.Requests} streaming requests to {server}...");
            RunMeasurement measured = HttpBenchDriver.RunAsync(server, workload, settings.Temperature, seed, CancellationToken.None).GetAwaiter().GetResult();
            BenchRun run = BenchRun.From(Label, "n/a", measured, kvBytesPerSlot: 0, idealMakespan: 0);
            runs.Add(run);
            firstSeed.TryAdd(Label, measured);
            log.WriteLine($"bench: seed {seed}, http: makespan {run.MakespanS:F2} s, mean e2e {run.E2eLatencyS.Mean:F2} s");
        }

        var workloadFigures = new BenchWorkload(
            $"{source} served at {server}", settings.Arrival, settings.IntervalMs, settings.Requests, settings.PromptLength, settings.OutputLength.ToString(), settings.Seeds,
            settings.Temperature, 0, 0, 0, 0, "n/a", []);
        return (new BenchResults(workloadFigures, [BenchRun.Median(runs)]), firstSeed);
    }
}
