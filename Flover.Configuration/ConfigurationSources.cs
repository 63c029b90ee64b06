namespace Flover.Configuration;

/// <summary>
/// Where the configuration of one Flover process comes from, lowest priority first: the
/// embedded <c>reference.conf</c>; the application file (<see cref="ConfigFile"/>, else
/// <c>application.conf</c> in <see cref="WorkingDirectory"/> when present, else the file named by
/// the <c>FLOVER_CONFIG</c> environment variable); then every <see cref="Overrides"/> entry in order.
/// </summary>
public sealed record ConfigurationSources
{
    /// <summary>The environment variable that names an application file when neither <c>--config</c> nor <c>./application.conf</c> gives one.</summary>
    public const string ConfigFileVariable = "FLOVER_CONFIG";

    /// <summary>The application file given with <c>--config FILE</c>, or null.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>The <c>--set key=value</c> arguments, in command-line order (later ones win); each value is parsed as HOCON.</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];

    /// <summary>The folder searched for <c>application.conf</c>; the process's current directory by default.</summary>
    public string WorkingDirectory { get; init; } = global::System.Environment.CurrentDirectory;

    /// <summary>Reads environment variables (for <c>FLOVER_CONFIG</c> and substitution fallbacks); replaceable in tests.</summary>
    public Func<string, string?> Environment { get; init; } = global::System.Environment.GetEnvironmentVariable;

    /// <summary>The application file this process will read, or null when there is none.</summary>
    public string? ResolveApplicationFile()
    {
        if (ConfigFile is not null)
        {
            return Path.GetFullPath(ConfigFile, WorkingDirectory);
        }

        string local = Path.Combine(WorkingDirectory, "application.conf");
        if (File.Exists(local))
        {
            return local;
        }

        string? fromEnvironment = Environment(ConfigFileVariable);
        return string.IsNullOrEmpty(fromEnvironment) ? null : Path.GetFullPath(fromEnvironment, WorkingDirectory);
    }
}
