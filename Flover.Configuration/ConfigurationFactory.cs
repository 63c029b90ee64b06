namespace Flover.Configuration;

/// <summary>
/// Creates <see cref="Config"/> instances, with Akka.NET's names. Every method resolves
/// substitutions before returning (environment variables are the fallback for paths the
/// document does not define) and throws a <see cref="ConfigurationException"/> naming
/// <c>file:line:column</c> for any problem.
/// </summary>
public static class ConfigurationFactory
{
    /// <summary>A configuration with no settings.</summary>
    public static Config Empty => Config.Empty;

    /// <summary>Parses HOCON (or JSON) text. Relative includes in it are looked up on the class path (the executable's folder).</summary>
    public static Config ParseString(string hocon)
    {
        ArgumentNullException.ThrowIfNull(hocon);
        return new Config(HoconResolver.Resolve(HoconLoader.ParseTextUnresolved(hocon), ResolveOptions.Default));
    }

    /// <summary>Parses a file: <c>.properties</c> as Java properties, anything else as HOCON. Relative includes resolve next to the file.</summary>
    public static Config ParseFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new Config(HoconResolver.Resolve(HoconLoader.ParseFileUnresolved(path), ResolveOptions.Default));
    }

    /// <summary>Flover's built-in defaults: the embedded <c>reference.conf</c> alone.</summary>
    public static Config Default() => new(HoconResolver.Resolve(ReferenceConfig.Load(), ResolveOptions.Default));

    /// <summary>
    /// The configuration in force for this process: <c>reference.conf</c> under
    /// <c>./application.conf</c> (or the file named by <c>$FLOVER_CONFIG</c>), validated as
    /// <see cref="FloverConfiguration.Load"/> does.
    /// </summary>
    public static Config Load() => FloverConfiguration.Load(new ConfigurationSources());
}
