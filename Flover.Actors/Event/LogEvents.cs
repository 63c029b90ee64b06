namespace Flover.Actors.Event;

/// <summary>Akka's log levels, lowest first.</summary>
public enum LogLevel
{
    /// <summary>Debug.</summary>
    DebugLevel,

    /// <summary>Info.</summary>
    InfoLevel,

    /// <summary>Warning.</summary>
    WarningLevel,

    /// <summary>Error.</summary>
    ErrorLevel,
}

/// <summary>A log line, published on the event stream (what the TestKit's EventFilter watches).</summary>
public abstract class LogEvent
{
    private protected LogEvent(string logSource, Type logClass, string message, Exception? cause)
    {
        LogSource = logSource;
        LogClass = logClass;
        Message = message;
        Cause = cause;
        Timestamp = DateTime.UtcNow;
        ThreadId = Environment.CurrentManagedThreadId;
    }

    /// <summary>Who logged (an actor path or a name).</summary>
    public string LogSource { get; }

    /// <summary>The class that logged.</summary>
    public Type LogClass { get; }

    /// <summary>The formatted message.</summary>
    public string Message { get; }

    /// <summary>The exception, for errors (and warnings that carry one).</summary>
    public Exception? Cause { get; }

    /// <summary>When it was logged (UTC).</summary>
    public DateTime Timestamp { get; }

    /// <summary>The managed thread that logged.</summary>
    public int ThreadId { get; }

    /// <summary>The level.</summary>
    public abstract LogLevel LogLevel { get; }

    /// <inheritdoc />
    public override string ToString() => $"[{LogLevel}][{LogSource}] {Message}{(Cause is null ? string.Empty : " " + Cause)}";
}

/// <summary>A debug log event.</summary>
public sealed class Debug(string logSource, Type logClass, string message) : LogEvent(logSource, logClass, message, null)
{
    /// <inheritdoc />
    public override LogLevel LogLevel => LogLevel.DebugLevel;
}

/// <summary>An info log event.</summary>
public sealed class Info(string logSource, Type logClass, string message) : LogEvent(logSource, logClass, message, null)
{
    /// <inheritdoc />
    public override LogLevel LogLevel => LogLevel.InfoLevel;
}

/// <summary>A warning log event.</summary>
public sealed class Warning(string logSource, Type logClass, string message, Exception? cause = null) : LogEvent(logSource, logClass, message, cause)
{
    /// <inheritdoc />
    public override LogLevel LogLevel => LogLevel.WarningLevel;
}

/// <summary>An error log event.</summary>
public sealed class Error(Exception? cause, string logSource, Type logClass, string message) : LogEvent(logSource, logClass, message, cause)
{
    /// <inheritdoc />
    public override LogLevel LogLevel => LogLevel.ErrorLevel;
}
