using Akka.Event;
using AkkaConfig = Akka.Configuration.Config;
using FloverConfig = Flover.Configuration.Config;

namespace Flover.Actors.Hosting;

/// <summary>
/// Hands Akka.NET the configuration Flover's own reader has loaded and resolved. Flover reads every
/// file and <c>--set</c> once with its spec-conformant HOCON reader (Akka's bundled parser loses
/// <c>${?X}</c> fallbacks, <c>+=</c> elements and merged substitutions, and overflows the stack on
/// self-references); the resolved tree, with no substitutions left, is rendered as JSON and parsed
/// by Akka, which reads JSON correctly. Akka falls back to its own defaults for what the tree does
/// not set.
/// </summary>
public static class AkkaConfiguration
{
    /// <summary>The whole resolved tree (<c>akka.*</c> and <c>flover.*</c>, whose dispatchers Akka looks up by path) as Akka's <c>Config</c>.</summary>
    public static AkkaConfig From(FloverConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Akka.Configuration.ConfigurationFactory.ParseString(config.ToJson());
    }

    /// <summary>Akka's log level named by <c>akka.loglevel</c> (Akka.Hosting's logger setup writes the level itself, so it is read here once).</summary>
    public static LogLevel LogLevel(FloverConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        string level = config.GetString("akka.loglevel") ?? "INFO";
        return level.ToUpperInvariant() switch
        {
            "DEBUG" => Akka.Event.LogLevel.DebugLevel,
            "INFO" => Akka.Event.LogLevel.InfoLevel,
            "WARNING" => Akka.Event.LogLevel.WarningLevel,
            "ERROR" or "OFF" => Akka.Event.LogLevel.ErrorLevel,
            _ => throw new Configuration.ConfigurationException(config.GetValue("akka.loglevel")?.Origin, $"setting 'akka.loglevel' must be one of OFF, ERROR, WARNING, INFO, DEBUG but is '{level}'"),
        };
    }
}
