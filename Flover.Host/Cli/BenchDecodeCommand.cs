using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover bench-decode [--model DIR|NAME | --preset NAME]</c>: decode throughput (default: the
/// <c>gpt2</c> preset, 124M) at several batch sizes. Each sequence gets a prompt, then the decode
/// steps are timed (greedy sampling included), as llama.cpp's <c>llama-batched-bench</c> does.
/// </summary>
internal static class BenchDecodeCommand
{
    public static Command Create(CliConsole console)
    {
        var batches = new Option<string>("--batch") { Description = "Comma-separated batch sizes.", DefaultValueFactory = _ => "1,8,32" };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length of every sequence.", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "Timed decode steps per batch size.", DefaultValueFactory = _ => 64 };
        Option<string?> model = CommonOptions.Model();
        Option<string?> preset = CommonOptions.Preset();
        Option<bool> json = CommonOptions.Json();
        var command = new Command("bench-decode", "Measure decode tokens/s and step time at several batch sizes (default: the gpt2 preset).")
        {
            model, preset, batches, promptTokens, steps, json,
        };
        EngineCommandOptions engine = EngineCommandOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var settings = new BenchDecodeSettings(
                ParseBatches(parse.GetValue(batches)!),
                Positive(parse.GetValue(promptTokens), "--prompt-tokens"),
                Positive(parse.GetValue(steps), "--steps"),
                engine.Resolve(parse),
                parse.GetValue(model),
                // The gpt2 preset when neither --model nor --preset is given.
                parse.GetValue(model) is null && parse.GetValue(preset) is null ? Gpt2Presets.Gpt2 : parse.GetValue(preset));
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

    internal static int[] ParseBatches(string text)
    {
        var sizes = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size <= 0)
            {
                throw new FloverException($"--batch takes comma-separated positive sizes such as 1,8,32; '{part}' is not one.");
            }

            sizes.Add(size);
        }

        return [.. sizes];
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new FloverException($"{name} must be positive, not {value}.");

    private static BenchDecodeReport Run(BenchDecodeSettings settings, TextWriter log)
    {
        var context = new AcceleratorContext(settings.Engine);
        using Accelerator accelerator = context.CreateDefault();
        Gpt2Model model;
        string source;
        using (IModelWeights weights = ModelSource.Open(settings.Model, settings.Preset))
        {
            source = weights.Source;
            int capacity = settings.PromptTokens + settings.Steps;
            if (capacity > weights.Config.MaxPositions)
            {
                throw new FloverException($"--prompt-tokens + --steps ({capacity}) exceeds the model's {weights.Config.MaxPositions} positions.");
            }

            log.WriteLine($"bench-decode: {accelerator.Device.Details}; uploading {source}...");
            model = new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(settings.Batches.Max(), capacity));
        }

        using (model)
        {
            var runs = new List<BenchDecodeRun>();
            foreach (int batch in settings.Batches)
            {
                BenchDecodeRun run = Measure(model, batch, settings);
                log.WriteLine($"bench-decode: batch {batch}: {run.TokensPerSecond:F1} tokens/s, {run.StepMilliseconds:F2} ms/step");
                runs.Add(run);
            }

            return new BenchDecodeReport(settings.Engine.ResolveThreadCount(), source, accelerator.Device.Details, settings.PromptTokens, settings.Steps, runs);
        }
    }

    private static BenchDecodeRun Measure(Gpt2Model model, int batch, BenchDecodeSettings settings)
    {
        var random = new Random(batch);
        var prompts = new PrefillPrompt[batch];
        var samplers = new RequestSampler[batch];
        var greedy = new SamplingParameters { Temperature = 0, MaxTokens = settings.Steps + 1, IgnoreEos = true };
        for (int i = 0; i < batch; i++)
        {
            int[] tokens = Enumerable.Range(0, settings.PromptTokens).Select(_ => random.Next(model.VocabularySize)).ToArray();
            prompts[i] = new PrefillPrompt(i, tokens);
            samplers[i] = new RequestSampler(greedy, model.VocabularySize, model.Config.EosTokenId, tokens);
        }

        ModelLogits logits = model.Prefill(prompts);
        var rows = new DecodeRow[batch];
        for (int i = 0; i < batch; i++)
        {
            rows[i] = new DecodeRow(i, settings.PromptTokens, samplers[i].Sample(logits.Row(i)).TokenId);
        }

        var stepTimes = new double[settings.Steps];
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
        Array.Sort(stepTimes);
        return new BenchDecodeRun(
            batch,
            "f32",
            batch * settings.Steps / seconds,
            seconds * 1000 / settings.Steps,
            stepTimes[stepTimes.Length / 2],
            stepTimes[^1],
            model.WeightBytes);
    }

    private static void WriteTable(BenchDecodeReport report, TextWriter output)
    {
        output.WriteLine($"decode of {report.Model}; {report.Accelerator}; prompt {report.PromptTokens} tokens, {report.Steps} timed steps");
        output.WriteLine($"{"batch",6} {"dtype",6} {"tokens/s",10} {"step ms",9} {"p50 ms",8} {"max ms",8} {"weights MB",11}");
        foreach (BenchDecodeRun run in report.Runs)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{run.Batch,6} {run.DType,6} {run.TokensPerSecond,10:F1} {run.StepMilliseconds,9:F2} {run.MedianStepMilliseconds,8:F2} {run.MaxStepMilliseconds,8:F2} {run.WeightBytes / 1e6,11:F0}"));
        }
    }
}

/// <summary>What <c>bench-decode</c> was asked to measure.</summary>
internal sealed record BenchDecodeSettings(int[] Batches, int PromptTokens, int Steps, EngineOptions Engine, string? Model, string? Preset);

/// <summary>The result of <c>bench-decode</c> (serialised as its <c>--json</c> output).</summary>
internal sealed record BenchDecodeReport(int Threads, string Model, string Accelerator, int PromptTokens, int Steps, IReadOnlyList<BenchDecodeRun> Runs);

/// <summary>One batch size's measurement.</summary>
internal sealed record BenchDecodeRun(
    int Batch,
    [property: JsonPropertyName("dtype")] string DType,
    [property: JsonPropertyName("tokens_per_s")] double TokensPerSecond,
    [property: JsonPropertyName("step_ms")] double StepMilliseconds,
    [property: JsonPropertyName("p50_step_ms")] double MedianStepMilliseconds,
    [property: JsonPropertyName("max_step_ms")] double MaxStepMilliseconds,
    long WeightBytes);

/// <summary>JSON settings of the benchmark output: snake_case names as issue 6 specifies them.</summary>
internal static class BenchDecodeJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}
