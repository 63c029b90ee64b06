using System.CommandLine;
using Flover.Actors.Configuration;
using Flover.Gpu.Accelerators;

namespace Flover.Host.Cli;

/// <summary>
/// The engine options of commands that run the model (generate, bench-decode): <c>--config</c> and
/// <c>--set</c> for the configuration, and <c>--threads</c>, which overrides <c>flover.engine.threads</c>.
/// </summary>
internal sealed class EngineCommandOptions
{
    private readonly ConfigOptions _config;
    private readonly Option<int?> _threads = new("--threads")
    {
        Description = "Kernel threads, the calling one included; 0 = one per core (default: flover.engine.threads).",
    };

    private EngineCommandOptions(ConfigOptions config)
    {
        _config = config;
    }

    /// <summary>Creates the options and adds them to <paramref name="command"/>.</summary>
    public static EngineCommandOptions AddTo(Command command)
    {
        var options = new EngineCommandOptions(ConfigOptions.AddTo(command));
        command.Options.Add(options._threads);
        return options;
    }

    /// <summary>The engine options in force: the configuration's <c>flover.engine</c>, with <c>--threads</c> over it.</summary>
    /// <exception cref="ConfigurationException">The configuration is invalid (the message names the file, line and key).</exception>
    public EngineOptions Resolve(ParseResult parse)
    {
        EngineSettings engine = FloverSettings.From(_config.Load(parse)).Engine;
        return new EngineOptions(parse.GetValue(_threads) ?? engine.Threads);
    }
}
