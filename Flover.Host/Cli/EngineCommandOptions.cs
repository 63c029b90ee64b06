using System.CommandLine;
using Flover.Configuration;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;

namespace Flover.Host.Cli;

/// <summary>
/// The engine options of commands that run the model (generate, bench-decode): <c>--config</c> and
/// <c>--set</c> for the configuration, <c>--threads</c>, which overrides <c>flover.engine.threads</c>,
/// <c>--dtype</c>, which overrides <c>flover.engine.weight-dtype</c> (a list where the command
/// measures several), and <c>--device</c>, which overrides <c>flover.engine.device</c>.
/// </summary>
internal sealed class EngineCommandOptions
{
    private readonly ConfigOptions _config;
    private readonly Option<int?> _threads = new("--threads")
    {
        Description = "Kernel threads, the calling one included; 0 = one per core (default: flover.engine.threads).",
    };

    private readonly Option<string?> _dtype;
    private readonly Option<string?> _device = DeviceOption();
    private readonly Option<int?> _tensorParallel = new("--tensor-parallel")
    {
        Description = "Tensor-parallel shards (must divide the head count; default: flover.parallel.tensor).",
    };

    private EngineCommandOptions(ConfigOptions config, bool dtypeList)
    {
        _config = config;
        _dtype = new Option<string?>("--dtype")
        {
            Description = dtypeList
                ? "Comma-separated weight precisions to measure: auto (as stored), f32, f16, bf16 (default: flover.engine.weight-dtype)."
                : "Weight precision: auto (as stored), f32, f16 or bf16 (default: flover.engine.weight-dtype).",
        };
    }

    /// <summary>Creates the options and adds them to <paramref name="command"/>.</summary>
    /// <param name="command">The command.</param>
    /// <param name="dtypeList">Whether <c>--dtype</c> takes a comma-separated list (<see cref="ResolveAll"/>).</param>
    public static EngineCommandOptions AddTo(Command command, bool dtypeList = false)
    {
        var options = new EngineCommandOptions(ConfigOptions.AddTo(command), dtypeList);
        command.Options.Add(options._threads);
        command.Options.Add(options._dtype);
        command.Options.Add(options._tensorParallel);
        command.Options.Add(options._device);
        return options;
    }

    /// <summary>Creates <c>--device D</c>, the shorthand for <c>--set flover.engine.device=D</c>.</summary>
    public static Option<string?> DeviceOption() => new("--device")
    {
        Description = "Device the model runs on: cpu, cuda (the first GPU) or cuda:N (shorthand for --set flover.engine.device=D).",
        HelpName = "D",
    };

    /// <summary>
    /// <paramref name="value"/> (<c>--device</c>) as a device, its error naming the flag and the allowed
    /// forms; null when the flag is absent.
    /// </summary>
    /// <exception cref="Flover.Gpu.FloverException">The value is none of cpu, cuda, cuda:N.</exception>
    public static DeviceSpec? ParseDevice(string? value)
    {
        if (value is null)
        {
            return null;
        }

        try
        {
            return DeviceSpec.Parse(value);
        }
        catch (Flover.Gpu.FloverException)
        {
            throw new Flover.Gpu.FloverException($"--device must be cpu, cuda or cuda:N (N a device number), not '{value}'.");
        }
    }

    /// <summary>
    /// The engine options in force: the configuration's <c>flover.engine</c> (its GEMM mode,
    /// <c>batch-invariant</c>, included; <c>--set flover.engine.batch-invariant=off</c> sets it), with
    /// <c>--threads</c>, <c>--dtype</c> and <c>--device</c> over it.
    /// </summary>
    /// <exception cref="ConfigurationException">The configuration is invalid (the message names the file, line and key).</exception>
    /// <exception cref="Flover.Gpu.FloverException"><c>--dtype</c> is not a precision.</exception>
    public EngineOptions Resolve(ParseResult parse) => ResolveAll(parse)[0];

    /// <summary>One engine option set per precision listed in <c>--dtype</c> (or the configuration's one).</summary>
    /// <exception cref="ConfigurationException">The configuration is invalid.</exception>
    /// <exception cref="Flover.Gpu.FloverException"><c>--dtype</c> names something that is not a precision.</exception>
    public IReadOnlyList<EngineOptions> ResolveAll(ParseResult parse)
    {
        FloverSettings settings = FloverSettings.From(_config.Load(parse));
        EngineSettings engine = settings.Engine;
        int threads = parse.GetValue(_threads) ?? engine.Threads;
        DeviceSpec device = ParseDevice(parse.GetValue(_device)) ?? DeviceSpec.Parse(engine.Device);
        int shards = parse.GetValue(_tensorParallel) ?? settings.Parallel.Tensor;
        if (shards < 1)
        {
            throw new Flover.Gpu.FloverException($"--tensor-parallel must be at least 1, not {shards}.");
        }

        string? listed = parse.GetValue(_dtype);
        if (listed is null)
        {
            return [new EngineOptions(threads, TensorDTypeExtensions.ParseWeightDType(engine.WeightDType, "flover.engine.weight-dtype"), shards) { Device = device, BatchInvariant = engine.BatchInvariant }];
        }

        return [.. listed.Split(',', StringSplitOptions.TrimEntries)
            .Select(name => new EngineOptions(threads, TensorDTypeExtensions.ParseWeightDType(name, "--dtype"), shards) { Device = device, BatchInvariant = engine.BatchInvariant })];
    }

    /// <summary>
    /// The configuration in force: <c>--config</c> and <c>--set</c>, with <c>--threads</c>,
    /// <c>--dtype</c> (one precision), <c>--tensor-parallel</c> and <c>--device</c> written over it as
    /// the settings they stand for (what <c>serve</c> does with the same flags).
    /// </summary>
    /// <exception cref="ConfigurationException">The configuration is invalid.</exception>
    /// <exception cref="Flover.Gpu.FloverException">A flag's value is invalid (the message names the flag).</exception>
    public Config LoadConfig(ParseResult parse)
    {
        int? shards = parse.GetValue(_tensorParallel);
        if (shards < 1)
        {
            throw new Flover.Gpu.FloverException($"--tensor-parallel must be at least 1, not {shards}.");
        }

        return Shorthands(shards, parse.GetValue(_dtype), parse.GetValue(_threads), parse.GetValue(_device)).WithFallback(_config.Load(parse));
    }

    /// <summary>The shorthand flags as a configuration layer over the loaded one (checked like any other value).</summary>
    public static Config Shorthands(int? tensorParallel, string? dtype, int? threads, string? device, string? kvDType = null)
    {
        var lines = new List<string>();
        if (tensorParallel is { } shards)
        {
            lines.Add($"flover.parallel.tensor = {shards}");
        }

        if (dtype is not null)
        {
            // Parsed here so the error names the flag, then written in the configuration's own spelling.
            string name = TensorDTypeExtensions.ParseWeightDType(dtype, "--dtype")?.ToName() ?? "auto";
            lines.Add($"flover.engine.weight-dtype = {name}");
        }

        if (kvDType is not null)
        {
            lines.Add($"flover.engine.kv-dtype = {TensorDTypeExtensions.ParseKvDType(kvDType, "--kv-dtype").ToName()}");
        }

        if (threads is { } count)
        {
            lines.Add($"flover.engine.threads = {count}");
        }

        if (ParseDevice(device) is { } spec)
        {
            // Quoted: HOCON reads an unquoted cuda:0 as a key-value separator.
            lines.Add($"flover.engine.device = \"{spec}\"");
        }

        return ConfigurationFactory.ParseString(string.Join('\n', lines));
    }
}
