namespace Flover.Configuration;

/// <summary>
/// Loads the configuration a Flover process runs with: <c>reference.conf</c> &lt; application
/// file &lt; <c>--set</c> overrides, merged unresolved and resolved once (so an override changes
/// every substitution that uses it), then validated so that a bad setting fails at start-up
/// with its path and position rather than at first use.
/// </summary>
public static class FloverConfiguration
{
    /// <summary>Loads, resolves and validates the configuration from <paramref name="sources"/>.</summary>
    /// <exception cref="ConfigurationException">A syntax error, an unresolvable substitution, a missing file, an unknown <c>flover.*</c> key or a value of the wrong type.</exception>
    public static Config Load(ConfigurationSources sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var options = new ResolveOptions(true, sources.Environment);

        // The reference layer must be consistent on its own (HOCON's layering rule), so that a bad
        // default is reported against reference.conf and not against the user's file.
        ConfigObject reference = ReferenceConfig.Load();
        ConfigObject resolvedReference = HoconResolver.Resolve(reference, options);

        ConfigObject merged = reference;
        string? applicationFile = sources.ResolveApplicationFile();
        if (applicationFile is not null)
        {
            merged = ConfigMerge.MergeObjects(merged, HoconLoader.ParseFileUnresolved(applicationFile));
        }

        for (int i = 0; i < sources.Overrides.Count; i++)
        {
            merged = ConfigMerge.MergeObjects(merged, ParseOverride(sources.Overrides[i]));
        }

        ConfigObject resolved = HoconResolver.Resolve(merged, options);
        ConfigValidator.Validate(resolved, resolvedReference);
        var config = new Config(resolved);
        _ = FloverSettings.From(config); // typed reading checks ranges and allowed values now, not at first use
        return config;
    }

    /// <summary>Parses one <c>--set key=value</c> argument: a HOCON path, <c>=</c>, and a HOCON value.</summary>
    internal static ConfigObject ParseOverride(string argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        if (!argument.Contains('=', StringComparison.Ordinal))
        {
            throw new ConfigurationException(null, $"--set {argument}: expected key=value (for example --set flover.http.port=8080)");
        }

        return HoconParser.ParseSingleField(argument, ParseContext.ForText($"--set {argument}"));
    }
}
