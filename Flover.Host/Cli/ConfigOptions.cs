using System.CommandLine;
using Flover.Configuration;

namespace Flover.Host.Cli;

/// <summary>
/// <c>--config FILE</c> and <c>--set key=value</c>, shared by every command that runs with a
/// configuration (config, serve, generate, bench), so they are spelled and layered the same way.
/// </summary>
internal sealed class ConfigOptions
{
    private ConfigOptions(Option<string?> configFile, Option<string[]> set)
    {
        ConfigFile = configFile;
        Set = set;
    }

    /// <summary><c>--config FILE</c>: the application file.</summary>
    public Option<string?> ConfigFile { get; }

    /// <summary><c>--set key=value</c>, repeatable: overrides applied over the application file, later ones winning.</summary>
    public Option<string[]> Set { get; }

    /// <summary>Creates both options and adds them to <paramref name="command"/>.</summary>
    public static ConfigOptions AddTo(Command command)
    {
        var options = new ConfigOptions(CreateConfigFile(), CreateSet());
        command.Options.Add(options.ConfigFile);
        command.Options.Add(options.Set);
        return options;
    }

    /// <summary>Creates <c>--config FILE</c>.</summary>
    public static Option<string?> CreateConfigFile() => new("--config")
    {
        Description = "A HOCON application file layered over the built-in reference.conf (default: ./application.conf if present, else $FLOVER_CONFIG).",
        HelpName = "FILE",
    };

    /// <summary>Creates <c>--set key=value</c> (repeatable).</summary>
    public static Option<string[]> CreateSet() => new("--set")
    {
        Description = "Override one setting, e.g. --set flover.http.port=8080; the value is parsed as HOCON. Repeatable; later ones win.",
        HelpName = "key=value",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>The configuration sources the user chose on this command line.</summary>
    public ConfigurationSources Sources(ParseResult parse) => new()
    {
        ConfigFile = parse.GetValue(ConfigFile),
        Overrides = parse.GetValue(Set) ?? [],
    };

    /// <summary>Loads, resolves and validates the configuration (a <see cref="ConfigurationException"/> on any problem).</summary>
    public Config Load(ParseResult parse) => FloverConfiguration.Load(Sources(parse));
}
