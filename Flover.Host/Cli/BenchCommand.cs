using System.CommandLine;
using System.Globalization;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Host.Bench;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover bench</c>: the paper's comparison on this machine. Every listed scheduler (the fused
/// loop in every listed memory mode) serves the same generated workload, injected in real time,
/// per seed; DIR gets results.json, summary.md, latency.svg and step-time.svg.
/// </summary>
internal static class BenchCommand
{
    private static readonly string[] s_arrivals = ["poisson", "constant"];

    public static Command Create(CliConsole console)
    {
        Option<string?> model = CommonOptions.Model();
        Option<string?> preset = CommonOptions.Preset();
        Option<bool> json = CommonOptions.Json();
        var schedulers = new Option<string>("--schedulers") { Description = "Comma-separated schedulers: fused, dynamic, instances, sequential.", DefaultValueFactory = _ => "fused,dynamic,instances,sequential" };
        var modes = new Option<string>("--memory-modes") { Description = "Comma-separated memory modes of the fused loop: indexed, holes, shuffle.", DefaultValueFactory = _ => "indexed" };
        var arrival = new Option<string>("--arrival") { Description = "Arrival process: poisson or constant.", DefaultValueFactory = _ => "poisson" };
        var interval = new Option<double>("--interval-ms") { Description = "Constant interval, or the Poisson mean inter-arrival time, in ms.", DefaultValueFactory = _ => 20 };
        var requests = new Option<int>("--requests") { Description = "Requests in the workload.", DefaultValueFactory = _ => 32 };
        var promptLength = new Option<int>("--prompt-len") { Description = "Tokens per prompt.", DefaultValueFactory = _ => 8 };
        var outputLength = new Option<string>("--output-len") { Description = "Generated tokens per request: FIXED or uniform:MIN:MAX (EOS ignored).", DefaultValueFactory = _ => "64" };
        var seed = new Option<int?>("--seed") { Description = "One workload seed." };
        var seeds = new Option<string?>("--seeds") { Description = "Comma-separated workload seeds; figures are medians over them." };
        var temperature = new Option<float?>("--temperature") { Description = "Sample at this temperature (default: greedy)." };
        var threads = new Option<int?>("--threads") { Description = "Kernel threads, the calling one included; 0 = one per core (default: flover.engine.threads)." };
        var tensorParallel = new Option<int?>("--tensor-parallel") { Description = "Split the model over N tensor-parallel shards (fused, dynamic and sequential; default: flover.parallel.tensor)." };
        var url = new Option<string?>("--url") { Description = "Replay the workload as streaming HTTP requests against a running flover serve at this address (e.g. http://127.0.0.1:8000) instead of running the schedulers in-process." };
        Option<string?> device = EngineCommandOptions.DeviceOption();
        var output = new Option<string>("--out") { Description = "Folder for results.json, summary.md, latency.svg and step-time.svg.", Required = true };
        var command = new Command("bench", "Compare the fused loop with dynamic batching, concurrent instances and one-at-a-time on one generated workload.")
        {
            model, preset, schedulers, modes, arrival, interval, requests, promptLength, outputLength, seed, seeds, temperature, threads, tensorParallel, device, url, output, json,
        };
        ConfigOptions config = ConfigOptions.AddTo(command);
        command.SetAction(parse =>
        {
            FloverSettings flover = FloverSettings.From(config.Load(parse));
            var settings = new BenchSettings(
                parse.GetValue(model),
                parse.GetValue(model) is null && parse.GetValue(preset) is null ? throw new FloverException("Give --preset NAME (e.g. gpt2) or --model DIR.") : parse.GetValue(preset),
                Words(parse.GetValue(schedulers)!, "--schedulers", SchedulerSettings.Kinds),
                Words(parse.GetValue(modes)!, "--memory-modes", EngineSettings.MemoryModes),
                Words(parse.GetValue(arrival)!, "--arrival", s_arrivals) is [var one] ? one : throw new FloverException("--arrival takes one of poisson, constant."),
                parse.GetValue(interval) is var ms && double.IsFinite(ms) && ms >= 0 ? ms : throw new FloverException($"--interval-ms must be a number ≥ 0, not {ms}."),
                Positive(parse.GetValue(requests), "--requests"),
                Positive(parse.GetValue(promptLength), "--prompt-len"),
                OutputLengthSpec.Parse(parse.GetValue(outputLength)!),
                Seeds(parse.GetValue(seed), parse.GetValue(seeds)),
                parse.GetValue(temperature),
                parse.GetValue(threads) ?? flover.Engine.Threads,
                flover,
                parse.GetValue(tensorParallel) is { } shards ? (shards >= 1 ? shards : throw new FloverException($"--tensor-parallel must be at least 1, not {shards}.")) : flover.Parallel.Tensor)
            {
                Device = EngineCommandOptions.ParseDevice(parse.GetValue(device)) ?? DeviceSpec.Parse(flover.Engine.Device),
            };
            string directory = parse.GetValue(output)!;
            (BenchResults results, IReadOnlyDictionary<string, RunMeasurement> firstSeed) = parse.GetValue(url) is { } address
                ? HttpBenchRunner.Run(settings, ParseUrl(address), console.Error)
                : BenchRunner.Run(settings, console.Error);
            Directory.CreateDirectory(directory);
            string invocation = "flover " + string.Join(' ', parse.Tokens.Select(t => t.Value));
            string summary = SummaryWriter.Write(results, invocation);
            File.WriteAllText(Path.Combine(directory, "README.md"), SummaryWriter.Readme(invocation));
            File.WriteAllText(Path.Combine(directory, "results.json"), results.ToJson());
            File.WriteAllText(Path.Combine(directory, "summary.md"), summary);
            File.WriteAllText(Path.Combine(directory, "latency.svg"), SvgCharts.Latency(firstSeed));
            if (results.Workload.StepTimeS.Count > 0)
            {
                File.WriteAllText(Path.Combine(directory, "step-time.svg"), SvgCharts.StepTime(results.Workload.StepTimeS));
            }

            console.Error.WriteLine($"bench: wrote {Path.Combine(directory, "results.json")}, summary.md, README.md, latency.svg, step-time.svg");
            console.Out.Write(parse.GetValue(json) ? results.ToJson() + Environment.NewLine : summary);
            return 0;
        });
        return command;
    }

    internal static IReadOnlyList<string> Words(string text, string option, IReadOnlyList<string> allowed)
    {
        List<string> words = [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct()];
        string? bad = words.FirstOrDefault(w => !allowed.Contains(w));
        return words.Count == 0 || bad is not null
            ? throw new FloverException($"{option} takes comma-separated values among {string.Join(", ", allowed)}; '{bad ?? text}' is not one.")
            : words;
    }

    internal static IReadOnlyList<int> Seeds(int? seed, string? seeds)
    {
        if (seed is not null && seeds is not null)
        {
            throw new FloverException("Give --seed or --seeds, not both.");
        }

        if (seeds is null)
        {
            return [seed ?? 1];
        }

        var list = new List<int>();
        foreach (string part in seeds.Split(',', StringSplitOptions.TrimEntries))
        {
            list.Add(int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) ? value : throw new FloverException($"--seeds takes comma-separated integers such as 1,2,3; '{part}' is not one."));
        }

        return list;
    }

    private static Uri ParseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new FloverException($"--url must be an http:// or https:// address such as http://127.0.0.1:8000, not '{text}'.");

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new FloverException($"{name} must be positive, not {value}.");
}
