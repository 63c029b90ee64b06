using Flover.Actors.Configuration;
using Flover.Actors.Event;

namespace Flover.Actors.Runtime;

/// <summary>The actor system's settings, read from Akka.NET's own configuration keys.</summary>
public sealed class Settings
{
    internal Settings(Config config)
    {
        Config = config;
        string level = (config.GetString("akka.loglevel", "INFO") ?? "INFO").ToUpperInvariant();
        LogLevel = level switch
        {
            "DEBUG" => LogLevel.DebugLevel,
            "INFO" => LogLevel.InfoLevel,
            "WARNING" or "WARN" => LogLevel.WarningLevel,
            "ERROR" => LogLevel.ErrorLevel,
            "OFF" => (LogLevel)(LogLevel.ErrorLevel + 1),
            _ => throw new ConfigurationException(config.GetValue("akka.loglevel")?.Origin, $"akka.loglevel must be OFF, ERROR, WARNING, INFO or DEBUG, not '{level}'."),
        };
        string deadLetters = config.GetString("akka.log-dead-letters", "10") ?? "10";
        LogDeadLetters = deadLetters switch
        {
            "on" or "true" or "yes" => int.MaxValue,
            "off" or "false" or "no" => 0,
            _ => int.TryParse(deadLetters, out int limit) && limit >= 0
                ? limit
                : throw new ConfigurationException(config.GetValue("akka.log-dead-letters")?.Origin, $"akka.log-dead-letters must be on, off or a count, not '{deadLetters}'."),
        };
        AskTimeout = config.GetTimeSpan("akka.actor.ask-timeout", Timeout.InfiniteTimeSpan);
        DebugLifecycle = config.GetBoolean("akka.actor.debug.lifecycle");
        DebugUnhandled = config.GetBoolean("akka.actor.debug.unhandled");
        SchedulerImplementation = config.GetString("akka.scheduler.implementation", null);
        TestTimeFactor = config.GetDouble("akka.test.timefactor", 1.0);
        if (TestTimeFactor <= 0)
        {
            throw new ConfigurationException(config.GetValue("akka.test.timefactor")?.Origin, $"akka.test.timefactor must be positive, not {TestTimeFactor}.");
        }
    }

    /// <summary>The whole configuration the system was created with (reference.conf included).</summary>
    public Config Config { get; }

    /// <summary><c>akka.loglevel</c>.</summary>
    public LogLevel LogLevel { get; }

    /// <summary><c>akka.log-dead-letters</c>: how many dead letters are logged (0: none).</summary>
    public int LogDeadLetters { get; }

    /// <summary><c>akka.actor.ask-timeout</c>: the Ask timeout when none is given (infinite by default).</summary>
    public TimeSpan AskTimeout { get; }

    /// <summary><c>akka.actor.debug.lifecycle</c>.</summary>
    public bool DebugLifecycle { get; }

    /// <summary><c>akka.actor.debug.unhandled</c>.</summary>
    public bool DebugUnhandled { get; }

    /// <summary><c>akka.scheduler.implementation</c>: a scheduler type name (null: the default scheduler).</summary>
    public string? SchedulerImplementation { get; }

    /// <summary><c>akka.test.timefactor</c>: multiplies every TestKit timeout.</summary>
    public double TestTimeFactor { get; }
}
