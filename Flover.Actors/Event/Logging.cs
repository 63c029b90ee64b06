using System.Globalization;
using Flover.Actors.Runtime;
using Microsoft.Extensions.Logging;
using MelLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Flover.Actors.Event;

/// <summary>Akka's logging facade: <c>string.Format</c>-style templates, levels from <c>akka.loglevel</c>.</summary>
public interface ILoggingAdapter
{
    /// <summary>True when debug messages are logged.</summary>
    bool IsDebugEnabled { get; }

    /// <summary>True when info messages are logged.</summary>
    bool IsInfoEnabled { get; }

    /// <summary>True when warnings are logged.</summary>
    bool IsWarningEnabled { get; }

    /// <summary>True when errors are logged.</summary>
    bool IsErrorEnabled { get; }

    /// <summary>Logs at debug level.</summary>
    void Debug(string format, params object?[] args);

    /// <summary>Logs at info level.</summary>
    void Info(string format, params object?[] args);

    /// <summary>Logs a warning.</summary>
    void Warning(string format, params object?[] args);

    /// <summary>Logs an error.</summary>
    void Error(string format, params object?[] args);

    /// <summary>Logs an error with its exception.</summary>
    void Error(Exception cause, string format, params object?[] args);
}

/// <summary>Creates logging adapters.</summary>
public static class Logging
{
    /// <summary>The logger of the actor whose context this is: source = its path, class = its type.</summary>
    public static ILoggingAdapter GetLogger(this IActorContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ActorCell cell = (ActorCell)context;
        return new BusLogging(cell.SystemImpl, cell.Self.Path.ToString(), cell.Actor?.GetType() ?? typeof(ActorBase));
    }

    /// <summary>A logger for <paramref name="logSource"/> in <paramref name="system"/>.</summary>
    public static ILoggingAdapter GetLogger(ActorSystem system, object logSource)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(logSource);
        (string source, Type type) = logSource switch
        {
            string name => (name, typeof(object)),
            Type t => (t.Name, t),
            IActorRef actor => (actor.Path.ToString(), actor.GetType()),
            _ => (logSource.GetType().Name, logSource.GetType()),
        };
        return new BusLogging((ActorSystemImpl)system, source, type);
    }
}

/// <summary>
/// Writes through Microsoft.Extensions.Logging (category = the logging class) and publishes a
/// <see cref="LogEvent"/> on the event stream, so tests can assert on log output.
/// </summary>
internal sealed class BusLogging(ActorSystemImpl system, string logSource, Type logClass) : ILoggingAdapter
{
    private readonly ILogger _logger = system.LoggerFactory.CreateLogger(logClass.FullName ?? logClass.Name);

    public bool IsDebugEnabled => system.Settings.LogLevel <= LogLevel.DebugLevel;

    public bool IsInfoEnabled => system.Settings.LogLevel <= LogLevel.InfoLevel;

    public bool IsWarningEnabled => system.Settings.LogLevel <= LogLevel.WarningLevel;

    public bool IsErrorEnabled => system.Settings.LogLevel <= LogLevel.ErrorLevel;

    public void Debug(string format, params object?[] args)
    {
        if (IsDebugEnabled)
        {
            Write(new Event.Debug(logSource, logClass, Format(format, args)), MelLogLevel.Debug, null);
        }
    }

    public void Info(string format, params object?[] args)
    {
        if (IsInfoEnabled)
        {
            Write(new Info(logSource, logClass, Format(format, args)), MelLogLevel.Information, null);
        }
    }

    public void Warning(string format, params object?[] args)
    {
        if (IsWarningEnabled)
        {
            Write(new Warning(logSource, logClass, Format(format, args)), MelLogLevel.Warning, null);
        }
    }

    public void Error(string format, params object?[] args)
    {
        if (IsErrorEnabled)
        {
            Write(new Error(null, logSource, logClass, Format(format, args)), MelLogLevel.Error, null);
        }
    }

    public void Error(Exception cause, string format, params object?[] args)
    {
        if (IsErrorEnabled)
        {
            Write(new Error(cause, logSource, logClass, Format(format, args)), MelLogLevel.Error, cause);
        }
    }

    private void Write(LogEvent logEvent, MelLogLevel level, Exception? cause)
    {
        system.EventStream.Publish(logEvent);
        if (_logger.IsEnabled(level))
        {
#pragma warning disable CA2254 // The message is already formatted Akka-style; it is not a template.
            _logger.Log(level, cause, "[{LogSource}] {Message}", logSource, logEvent.Message);
#pragma warning restore CA2254
        }
    }

    private static string Format(string format, object?[] args)
    {
        if (args.Length == 0)
        {
            return format;
        }

        try
        {
            return string.Format(CultureInfo.InvariantCulture, format, args);
        }
        catch (FormatException)
        {
            // A template with named holes ({Name}) or a mismatched count: keep everything readable.
            return format + " [" + string.Join(", ", args) + "]";
        }
    }
}
