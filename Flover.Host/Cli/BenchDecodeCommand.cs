using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover bench-decode [--model DIR|NAME | --preset NAME]</c>: decode throughput (default: the
/// <c>gpt2</c> preset, 124M) at several batch sizes, weight precisions and KV-cache precisions. Each sequence gets a
/// prompt, then the decode steps are timed (greedy sampling included) after a second of untimed
/// warm-up steps, as llama.cpp's
/// <c>llama-batched-bench -npp 32 -ntg 64</c> does. Beside it, the machine's read-only streaming
/// bandwidth is measured with the same workers, so batch 1 (which reads every weight once per step)
/// can be read as a fraction of what the memory allows (on the CPU only; <c>--device</c> runs it on a GPU).
/// </summary>
internal static class BenchDecodeCommand
{
    // At least this many untimed steps when warming up at all: tiered compilation promotes a method
    // after 30 calls, and some run once per step.
    private const int WarmUpSteps = 8;

    public static Command Create(CliConsole console)
    {
        var batches = new Option<string>("--batch") { Description = "Comma-separated batch sizes.", DefaultValueFactory = _ => "1,8,32,64" };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length of every sequence.", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "Timed decode steps per batch size.", DefaultValueFactory = _ => 64 };
        Option<string?> model = CommonOptions.Model();
        Option<string?> preset = CommonOptions.Preset(llama: true);
        Option<bool> json = CommonOptions.Json();
        var kvDTypes = new Option<string>("--kv-dtype") { Description = "Comma-separated KV-cache precisions to measure: f32, f16, bf16.", DefaultValueFactory = _ => "f32" };
        var profile = new Option<bool>("--profile") { Description = "Also time every phase of a step (upload, embedding, each kernel, download) and the host's share; each phase synchronises the device, so tokens/s drops while profiling: compare phases, not speeds. One shard only." };
        var acrossSystems = new Option<bool>("--across-systems") { Description = "With more than one shard: each shard in an actor system of its own, joined over Akka.Remote on 127.0.0.1, the collectives over TCP (tensor parallelism across nodes, on one machine)." };
        // One second covers tiered compilation's call counting, its 100 ms delay and the background
        // tier-1 compiles on a busy 2-core machine.
        var warmUp = new Option<double>("--warmup") { Description = "Seconds of untimed decode steps (at least 8) before each timed run, so the JIT's optimised code is what is timed, as in a long-running server; 0 skips it.", DefaultValueFactory = _ => 1.0 };
        var bandwidthMb = new Option<int>("--bandwidth-mb") { Description = "Size of the streaming-bandwidth probe's buffer in MiB (larger than the last-level cache); 0 skips it.", DefaultValueFactory = _ => 512 };
        var command = new Command("bench-decode", "Measure decode tokens/s and step time at several batch sizes and weight precisions (default: the gpt2 preset).")
        {
            model, preset, batches, promptTokens, steps, kvDTypes, warmUp, bandwidthMb, profile, acrossSystems, json,
        };
        EngineCommandOptions engine = EngineCommandOptions.AddTo(command, dtypeList: true);
        command.SetAction(parse =>
        {
            var settings = new BenchDecodeSettings(
                ParseBatches(parse.GetValue(batches)!),
                Positive(parse.GetValue(promptTokens), "--prompt-tokens"),
                Positive(parse.GetValue(steps), "--steps"),
                engine.ResolveAll(parse),
                parse.GetValue(bandwidthMb) >= 0 ? parse.GetValue(bandwidthMb) : throw new FloverException($"--bandwidth-mb must be 0 or more, not {parse.GetValue(bandwidthMb)}."),
                parse.GetValue(model),
                // The gpt2 preset when neither --model nor --preset is given.
                parse.GetValue(model) is null && parse.GetValue(preset) is null ? Gpt2Presets.Gpt2 : parse.GetValue(preset))
            {
                KvDTypes = [.. parse.GetValue(kvDTypes)!.Split(',', StringSplitOptions.TrimEntries).Select(name => TensorDTypeExtensions.ParseKvDType(name, "--kv-dtype"))],
                Profile = parse.GetValue(profile),
                WarmUpSeconds = parse.GetValue(warmUp) is >= 0 and < 3600 and var seconds ? seconds : throw new FloverException($"--warmup must be seconds from 0 to 3600, not {parse.GetValue(warmUp).ToString(CultureInfo.InvariantCulture)}."),
                AcrossSystems = parse.GetValue(acrossSystems),
            };
            BenchDecodeReport report = Run(settings, console.Error);
            if (parse.GetValue(json))
            {
                console.Out.WriteLine(JsonSerializer.Serialize(report, BenchDecodeJson.Options));
            }
            else
            {
                WriteTable(report, console.Out);
            }

            return 0;
        });
        return command;
    }

    internal static int[] ParseBatches(string text, string option = "--batch")
    {
        var sizes = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size <= 0)
            {
                throw new FloverException($"{option} takes comma-separated positive sizes such as 1,8,32; '{part}' is not one.");
            }

            sizes.Add(size);
        }

        return [.. sizes];
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new FloverException($"{name} must be positive, not {value}.");

    private static BenchDecodeReport Run(BenchDecodeSettings settings, TextWriter log)
    {
        EngineOptions first = settings.Engines[0];
        if (settings.Profile && settings.Engines.Any(e => e.TensorParallel > 1))
        {
            throw new FloverException("--profile times the phases of one shard; use --tensor-parallel 1.");
        }

        // A preset measured in one 16-bit precision only is generated in it: llama-3-8b's F32 copy
        // alone would not fit where its BF16 weights do.
        TensorDType presetDType = settings.Engines.Select(e => e.WeightDType ?? TensorDType.F32).Distinct().Count() == 1 ? first.WeightDType ?? TensorDType.F32 : TensorDType.F32;
        // On a GPU a GPT-2 preset is generated in device memory by each upload, never on the host.
        using AnyFamilyWeights weights = ModelSource.OpenAnyFamily(settings.Model, settings.Preset, presetDType, deferPreset: first.Device.Kind != AcceleratorKind.Cpu);
        int capacity = settings.PromptTokens + settings.Steps;
        if (capacity > weights.MaxPositions)
        {
            throw new FloverException($"--prompt-tokens + --steps ({capacity}) exceeds the model's {weights.MaxPositions} positions.");
        }

        double bandwidth = 0;
        string device;
        // Opened once up front (on a GPU that compiles the kernels a second time, a few seconds) so a
        // device that cannot be opened fails before the checkpoint is uploaded.
        using (Accelerator probe = DeviceAccelerators.Open(first.Device, first))
        {
            device = probe.Device.Details;
            // Timings of the two GEMM modes are different measurements: say which one this is.
            log.WriteLine($"bench-decode: GEMM {GemmMode.Describe(first.BatchInvariant)}");
            if (settings.BandwidthMegabytes > 0 && probe is CpuAccelerator cpu)
            {
                log.WriteLine($"bench-decode: {device}; measuring streaming read bandwidth over {settings.BandwidthMegabytes} MiB...");
                bandwidth = cpu.MeasureReadBandwidth((long)settings.BandwidthMegabytes << 20, passes: 5);
                log.WriteLine($"bench-decode: read bandwidth {bandwidth / 1e9:F1} GB/s");
            }
        }

        var runs = new List<BenchDecodeRun>();
        foreach (EngineOptions engine in settings.Engines)
        {
            foreach (TensorDType kv in settings.KvDTypes)
            {
                string dtype = engine.WeightDType?.ToName() ?? "as stored";
                log.WriteLine($"bench-decode: uploading {weights.Source} ({dtype}, {kv.ToName()} KV, {engine.TensorParallel} shard(s))...");
                // One shard: the plain model; more: the engine's shard actors (Bench.ToolModel).
                using var model = Bench.ToolModel.Load(engine, weights, settings.Batches.Max(), capacity, kv, settings.AcrossSystems);
                string dtypeName = model.WeightDType.ToName();
                foreach (int batch in settings.Batches)
                {
                    // Greedy with ignore_eos: the end-of-sequence id never stops a run, any will do.
                    BenchDecodeRun run = Measure(model, dtypeName, weights.EosTokenId ?? 0, batch, settings) with { KvDType = kv.ToName() };
                    log.WriteLine($"bench-decode: {run.DType} weights, {run.KvDType} KV, batch {batch}: {run.TokensPerSecond:F1} tokens/s, {run.StepMilliseconds:F2} ms/step");
                    runs.Add(run);
                }
            }
        }

        return new BenchDecodeReport(first.ResolveThreadCount(), first.TensorParallel, weights.Source, device, settings.PromptTokens, settings.Steps, bandwidth / 1e9, runs)
        {
            WarmUpSeconds = settings.WarmUpSeconds,
        };
    }

    private static BenchDecodeRun Measure(Bench.ToolModel tool, string dtype, int eosTokenId, int batch, BenchDecodeSettings settings)
    {
        IModel model = tool.Model;
        var random = new Random(batch);
        var prompts = new PrefillPrompt[batch];
        var samplers = new RequestSampler[batch];
        var greedy = new SamplingParameters { Temperature = 0, MaxTokens = settings.Steps + 1, IgnoreEos = true };
        for (int i = 0; i < batch; i++)
        {
            int[] tokens = Enumerable.Range(0, settings.PromptTokens).Select(_ => random.Next(model.VocabularySize)).ToArray();
            prompts[i] = new PrefillPrompt(i, tokens);
            samplers[i] = new RequestSampler(greedy, model.VocabularySize, eosTokenId, tokens);
        }

        int warmUpSteps = WarmUp(model, prompts, greedy, eosTokenId, settings.Steps, settings.WarmUpSeconds);
        ModelLogits logits = model.Prefill(prompts);
        var rows = new DecodeRow[batch];
        for (int i = 0; i < batch; i++)
        {
            rows[i] = new DecodeRow(i, settings.PromptTokens, samplers[i].Sample(logits.Row(i)).TokenId);
        }

        var stepTimes = new double[settings.Steps];
        double collectiveBefore = tool.CollectiveSeconds;
        StepProfile? profile = settings.Profile ? new StepProfile() : null;
        if (tool.Profilable is { } whole)
        {
            whole.Profile = profile;
        }

        // Collections inside the timed steps, to tell a GC pause from other long steps.
        var gc = GcWindow.Open();
        long start = Stopwatch.GetTimestamp();
        for (int step = 0; step < settings.Steps; step++)
        {
            long stepStart = Stopwatch.GetTimestamp();
            logits = model.Decode(rows);
            for (int i = 0; i < batch; i++)
            {
                rows[i] = new DecodeRow(i, rows[i].Position + 1, samplers[i].Sample(logits.Row(i)).TokenId);
            }

            stepTimes[step] = Stopwatch.GetElapsedTime(stepStart).TotalMilliseconds;
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        (int collections, double pausedMilliseconds) = gc.Close();
        if (tool.Profilable is { } profiled)
        {
            profiled.Profile = null;
        }

        double collectiveMilliseconds = (tool.CollectiveSeconds - collectiveBefore) * 1000 / tool.ShardCount / settings.Steps;
        Array.Sort(stepTimes);
        return new BenchDecodeRun(
            batch,
            dtype,
            batch * settings.Steps / seconds,
            seconds * 1000 / settings.Steps,
            stepTimes[stepTimes.Length / 2],
            stepTimes[^1],
            tool.WeightBytes,
            tool.WeightBytes * settings.Steps / seconds / 1e9,
            collectiveMilliseconds)
        {
            Profile = profile is null ? null : BenchDecodeProfile.Of(profile, settings.Steps, seconds * 1000 / settings.Steps),
            WarmUpSteps = warmUpSteps,
            GcCollections = collections,
            GcPauseMilliseconds = pausedMilliseconds,
        };
    }

    /// <summary>
    /// Decodes untimed steps for at least <paramref name="seconds"/> (and <see cref="WarmUpSteps"/>
    /// steps; nothing when it is 0) before the timed run, prefilling again whenever the positions run out. A long-running
    /// server's step runs the JIT's fully optimised code; without this the first timed steps would run
    /// parts of it at tier 0, which at batch 1 cost several percent of a 64-step run. The timed run's
    /// own prefill then overwrites these steps' cache entries position by position.
    /// </summary>
    private static int WarmUp(IModel model, PrefillPrompt[] prompts, SamplingParameters greedy, int eosTokenId, int steps, double seconds)
    {
        if (seconds == 0)
        {
            return 0;
        }

        long start = Stopwatch.GetTimestamp();
        int done = 0;
        while (done < WarmUpSteps || Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
        {
            ModelLogits logits = model.Prefill(prompts);
            var rows = new DecodeRow[prompts.Length];
            var samplers = new RequestSampler[prompts.Length];
            for (int i = 0; i < rows.Length; i++)
            {
                samplers[i] = new RequestSampler(greedy, model.VocabularySize, eosTokenId, prompts[i].Tokens.Span);
                rows[i] = new DecodeRow(i, prompts[i].Tokens.Length, samplers[i].Sample(logits.Row(i)).TokenId);
            }

            for (int step = 0; step < steps && (done < WarmUpSteps || Stopwatch.GetElapsedTime(start).TotalSeconds < seconds); step++, done++)
            {
                logits = model.Decode(rows);
                for (int i = 0; i < rows.Length; i++)
                {
                    rows[i] = new DecodeRow(i, rows[i].Position + 1, samplers[i].Sample(logits.Row(i)).TokenId);
                }
            }
        }

        return done;
    }

    private static void WriteTable(BenchDecodeReport report, TextWriter output)
    {
        output.WriteLine($"decode of {report.Model}; {report.Accelerator}; {report.TensorParallel} tensor-parallel shard(s); prompt {report.PromptTokens} tokens, {report.Steps} timed steps{(report.WarmUpSeconds > 0 ? string.Create(CultureInfo.InvariantCulture, $" after {report.WarmUpSeconds:0.###} s of warm-up") : "")}");
        if (report.ReadBandwidthGbs > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"streaming read bandwidth: {report.ReadBandwidthGbs:F1} GB/s"));
        }

        output.WriteLine($"{"batch",6} {"dtype",6} {"kv",5} {"tokens/s",10} {"step ms",9} {"p50 ms",8} {"max ms",8} {"weights MB",11} {"weight GB/s",12} {"of stream",10} {"comm ms",8}");
        foreach (BenchDecodeRun run in report.Runs)
        {
            string share = report.ReadBandwidthGbs > 0 ? string.Create(CultureInfo.InvariantCulture, $"{run.WeightGbs / report.ReadBandwidthGbs,9:P0}") : "-";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{run.Batch,6} {run.DType,6} {run.KvDType,5} {run.TokensPerSecond,10:F1} {run.StepMilliseconds,9:F2} {run.MedianStepMilliseconds,8:F2} {run.MaxStepMilliseconds,8:F2} {run.WeightBytes / 1e6,11:F0} {run.WeightGbs,12:F1} {share,10} {run.CollectiveMilliseconds,8:F2}"));
        }

        foreach (BenchDecodeRun run in report.Runs.Where(r => r.Profile is not null))
        {
            BenchDecodeProfile.Write(run, output);
        }
    }
}

/// <summary>What <c>bench-decode</c> was asked to measure.</summary>
internal sealed record BenchDecodeSettings(int[] Batches, int PromptTokens, int Steps, IReadOnlyList<EngineOptions> Engines, int BandwidthMegabytes, string? Model, string? Preset)
{
    /// <summary>KV-cache precisions, each measured with every engine (<c>--kv-dtype</c>).</summary>
    public IReadOnlyList<TensorDType> KvDTypes { get; init; } = [TensorDType.F32];

    /// <summary>Whether the timed steps are profiled phase by phase (<c>--profile</c>).</summary>
    public bool Profile { get; init; }

    /// <summary>Seconds of untimed decoding before each timed run (<c>--warmup</c>); 0 for none.</summary>
    public double WarmUpSeconds { get; init; } = 1.0;

    /// <summary>Whether each shard runs in an actor system of its own on loopback Akka.Remote, the collectives over TCP (<c>--across-systems</c>).</summary>
    public bool AcrossSystems { get; init; }
}

/// <summary>The result of <c>bench-decode</c> (serialised as its <c>--json</c> output).</summary>
internal sealed record BenchDecodeReport(
    int Threads,
    int TensorParallel,
    string Model,
    string Accelerator,
    int PromptTokens,
    int Steps,
    [property: JsonPropertyName("read_bandwidth_gbs")] double ReadBandwidthGbs,
    IReadOnlyList<BenchDecodeRun> Runs)
{
    /// <summary>Seconds of untimed decoding before each timed run.</summary>
    [JsonPropertyName("warmup_seconds")]
    public double WarmUpSeconds { get; init; }
}

/// <summary>One batch size's measurement.</summary>
internal sealed record BenchDecodeRun(
    int Batch,
    [property: JsonPropertyName("dtype")] string DType,
    [property: JsonPropertyName("tokens_per_s")] double TokensPerSecond,
    [property: JsonPropertyName("step_ms")] double StepMilliseconds,
    [property: JsonPropertyName("p50_step_ms")] double MedianStepMilliseconds,
    [property: JsonPropertyName("max_step_ms")] double MaxStepMilliseconds,
    long WeightBytes,
    [property: JsonPropertyName("weight_gbs")] double WeightGbs,
    [property: JsonPropertyName("collective_ms_per_step")] double CollectiveMilliseconds)
{
    /// <summary>The KV cache's precision (f32, f16 or bf16).</summary>
    [JsonPropertyName("kv_dtype")]
    public string KvDType { get; init; } = "f32";

    /// <summary>Untimed decode steps run before the timed ones (<c>--warmup</c>).</summary>
    [JsonPropertyName("warmup_steps")]
    public int WarmUpSteps { get; init; }

    /// <summary>Garbage collections (of any generation: each starts with generation 0) during the timed steps.</summary>
    [JsonPropertyName("gc_collections")]
    public int GcCollections { get; init; }

    /// <summary>Milliseconds the runtime paused threads for those collections.</summary>
    [JsonPropertyName("gc_pause_ms")]
    public double GcPauseMilliseconds { get; init; }

    /// <summary>With <c>--profile</c>: each phase's time per step, the host's share last; else null.</summary>
    [JsonPropertyName("profile")]
    public IReadOnlyList<BenchDecodePhase>? Profile { get; init; }
}

/// <summary>JSON settings of the benchmark output: snake_case names as issue 6 specifies them.</summary>
internal static class BenchDecodeJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}
