using System.Diagnostics;
using Akka.Actor;
using Flover.Actors.Inference.Sharding;
using Flover.Actors.Inference;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Models;

namespace Flover.Host.Bench;

/// <summary>Everything <c>flover bench</c> was asked to do.</summary>
internal sealed record BenchSettings(
    string? Model,
    string? Preset,
    IReadOnlyList<string> Schedulers,
    IReadOnlyList<string> MemoryModes,
    string Arrival,
    double IntervalMs,
    int Requests,
    int PromptLength,
    OutputLengthSpec OutputLength,
    IReadOnlyList<int> Seeds,
    float? Temperature,
    int Threads,
    FloverSettings Flover,
    int TensorParallel = 1)
{
    /// <summary><c>--device</c> or <c>flover.engine.device</c>: where every model of the run lives (the CPU when built in code).</summary>
    public DeviceSpec Device { get; init; } = DeviceSpec.Cpu;
}

/// <summary>
/// Runs every scheduler (the fused one in every memory mode) on the same generated workload,
/// interleaved per seed, all on one upload of the weights; measures the fused model's step-time
/// curve; checks that every request got the same tokens under every scheduler; aggregates the
/// median over seeds.
/// </summary>
internal static class BenchRunner
{
    public static (BenchResults Results, IReadOnlyDictionary<string, RunMeasurement> FirstSeed) Run(BenchSettings settings, TextWriter log)
    {
        int threads = new EngineOptions(settings.Threads).ResolveThreadCount();
        if (!settings.Flover.Engine.BatchInvariant)
        {
            // Not ignored: bench checks every scheduler gave each request the same tokens, which only
            // the batch-invariant GEMM guarantees.
            throw new FloverException("flover bench compares the schedulers' tokens, which needs flover.engine.batch-invariant = on; time the fast GEMM mode with bench-decode.");
        }

        if (settings.TensorParallel > 1 && settings.Schedulers.Contains("instances"))
        {
            throw new FloverException("--tensor-parallel applies to the fused, dynamic and sequential schedulers; instances share one upload of the whole model, which a split model cannot.");
        }

        using Accelerator home = DeviceAccelerators.Open(settings.Device, new EngineOptions(settings.Threads));

        // A split model (and a LLaMA model) is built per run from the checkpoint, which therefore stays open.
        log.WriteLine($"bench: opening {settings.Model ?? $"preset '{settings.Preset}'"} ({home.Device.Details})...");
        using BenchModels models = BenchModels.Open(settings, home);
        // The runs go through the engine itself (inference engine, decode loop, shard actors).
        ActorSystem system = ToolModel.CreateSystem("flover-bench");
        try
        {
            int capacity = settings.PromptLength + settings.OutputLength.Max;
            if (capacity > models.MaxPositions)
            {
                throw new FloverException($"--prompt-len + the longest --output-len ({capacity}) exceeds the model's {models.MaxPositions} positions.");
            }

            EngineSettings engine = settings.Flover.Engine with { KvSlots = Math.Min(settings.Flover.Engine.KvSlots, settings.Requests), MaxWaiting = Math.Max(settings.Flover.Engine.MaxWaiting, settings.Requests) };
            double[] curve;
            using (IDisposable probe = settings.TensorParallel > 1
                ? models.SplitForTool(new EngineOptions(threads, TensorParallel: settings.TensorParallel) { Device = settings.Device }, engine.KvSlots, capacity)
                : models.Whole(home, engine.KvSlots, capacity))
            {
                log.WriteLine($"bench: measuring the step time t(n) for n = 1..{engine.KvSlots}...");
                int typical = settings.PromptLength + ((settings.OutputLength.Min + settings.OutputLength.Max) / 4);
                curve = StepCurve.Measure(probe is ToolModel split ? split.Model : (IModel)probe, engine.KvSlots, typical, repeats: 5);
            }

            var spec = new WorkloadSpec(settings.Arrival, settings.IntervalMs, settings.Requests, settings.PromptLength, settings.OutputLength, models.VocabularySize);
            List<(string Scheduler, string Mode)> runs = [.. settings.Schedulers.SelectMany(s => s == "fused" ? settings.MemoryModes.Select(m => (s, m)) : [(s, "n/a")])];
            var perRun = runs.ToDictionary(r => r, _ => new List<BenchRun>());
            var firstSeed = new Dictionary<string, RunMeasurement>();
            foreach (int seed in settings.Seeds)
            {
                IReadOnlyList<BenchRequest> workload = WorkloadGenerator.Generate(spec, seed);
                double ideal = StepCurve.IdealMakespan(curve, [.. workload.Select(r => (r.Arrival.TotalSeconds, r.OutputTokens))]);
                IReadOnlyList<List<int>>? reference = null;
                foreach ((string scheduler, string mode) in runs)
                {
                    log.WriteLine($"bench: seed {seed}, {scheduler}/{mode}: {settings.Requests} requests...");
                    long started = Stopwatch.GetTimestamp();
                    RunMeasurement measured = RunOne(system, settings, engine, scheduler, mode, home, models, capacity, threads, workload, seed);
                    BenchRun run = BenchRun.From(scheduler, mode, measured, models.KvBytesPerSlot(capacity), ideal);
                    perRun[(scheduler, mode)].Add(run);
                    firstSeed.TryAdd(Label(scheduler, mode), measured);
                    log.WriteLine($"bench: seed {seed}, {scheduler}/{mode}: makespan {run.MakespanS:F2} s, mean e2e {run.E2eLatencyS.Mean:F2} s, {run.Iterations} iterations ({Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s)");
                    reference ??= measured.TokenIds;
                    CheckSameTokens(reference, measured.TokenIds, scheduler, mode, seed);
                }
            }

            var workloadFigures = new BenchWorkload(
                models.Source, settings.Arrival, settings.IntervalMs, settings.Requests, settings.PromptLength, settings.OutputLength.ToString(), settings.Seeds,
                settings.Temperature, threads, engine.KvSlots, settings.Flover.Scheduler.DynamicMaxBatchSize,
                settings.Flover.Scheduler.DynamicMaxQueueDelay.TotalMilliseconds, settings.Flover.Scheduler.InstancesCount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? SchedulerSettings.PerRequest, curve)
            {
                InstancesConcurrency = home is IlgpuAccelerator
                    ? "each on a CUDA stream and a host thread of its own, all reading one upload of the weights, as FasterTransformer's concurrent instances"
                    : "each on a host thread of its own with the kernel threads split among them, all reading one copy of the weights",
            };
            return (new BenchResults(workloadFigures, [.. runs.Select(r => BenchRun.Median(perRun[r]))]), firstSeed);
        }
        finally
        {
            system.Terminate().GetAwaiter().GetResult();
        }
    }

    public static string Label(string scheduler, string mode) => mode == "n/a" ? scheduler : $"{scheduler}/{mode}";

    private static RunMeasurement RunOne(ActorSystem system, BenchSettings settings, EngineSettings engine, string kind, string mode, Accelerator home, BenchModels source, int capacity, int threads, IReadOnlyList<BenchRequest> workload, int seed)
    {
        var owned = new List<IDisposable>();
        // Filled as the shard (rank 0) and the instances make their models, on their own threads.
        var models = new List<TimedModel>();
        TimedModel Timed(IModel inner, bool owns)
        {
            var model = new TimedModel(inner);
            lock (models)
            {
                models.Add(model);
                if (owns)
                {
                    owned.Add(model);
                }
            }

            return model;
        }

        IModel Instance(int instance, int instances)
        {
            // On a device each instance gets a stream of its own on the home context (its weights are
            // the home's upload); on the CPU the threads are split among the instances, per-request
            // instances getting one each.
            Accelerator accelerator = home is IlgpuAccelerator device
                ? device.CreateStreamSibling()
                : new AcceleratorContext(new EngineOptions(instances == 0 ? 1 : Math.Max(1, threads / instances))).CreateDefault();
            lock (models)
            {
                owned.Add(accelerator);
            }

            return Timed(source.Instance(accelerator, capacity), owns: true);
        }

        ShardedModel shards;
        var shape = new ModelShape(source.VocabularySize, engine.KvSlots, capacity, source.KvBytesPerSlot(capacity));
        if (settings.TensorParallel > 1)
        {
            // The engine's own shard actors, each loading its slice; rank 0's model is timed.
            ShardedModel split = source.Split(new EngineOptions(threads, TensorParallel: settings.TensorParallel) { Device = settings.Device }, engine.KvSlots, capacity);
            shards = new ShardedModel(split.Shape, split.ShardCount, (slots, communicator) =>
            {
                IModel slice = split.Create(slots, communicator);
                return (communicator?.Rank ?? 0) == 0 ? Timed(slice, owns: false) : slice;
            }, split.Device);
        }
        else
        {
            // One shard on the home accelerator (GPT-2: on the bench's one upload; the shard disposes the model it holds).
            shards = new ShardedModel(shape, 1, (slots, _) => Timed(source.Whole(home, slots, capacity), owns: false), settings.Device.Kind);
        }

        var schedulerSettings = settings.Flover.Scheduler with { Kind = kind };
        var loop = DecodeLoopOptions.From(engine with { MemoryMode = mode == "n/a" ? "indexed" : mode }, source.EosTokenId);
        try
        {
            return BenchDriver.Run(system, () => SchedulerFactory.Create(schedulerSettings, engine, loop, shape, Instance), shards, loop, models, workload, settings.Temperature, seed);
        }
        finally
        {
            // Newest first: an instance's model goes before the accelerator it runs on.
            for (int i = owned.Count - 1; i >= 0; i--)
            {
                owned[i].Dispose();
            }
        }
    }

    private static void CheckSameTokens(IReadOnlyList<List<int>> reference, IReadOnlyList<List<int>> tokens, string scheduler, string mode, int seed)
    {
        for (int i = 0; i < reference.Count; i++)
        {
            if (!reference[i].SequenceEqual(tokens[i]))
            {
                throw new FloverException($"Seed {seed}: request {i + 1} got different tokens under {Label(scheduler, mode)} than under the first run; every scheduler must give the same tokens.");
            }
        }
    }
}
