using Flover.Actors.Event;

namespace Flover.Actors.Runtime;

/// <summary>What a supervisor does with a failed child.</summary>
public enum Directive
{
    /// <summary>Keep the instance and its state; continue with the next message.</summary>
    Resume,

    /// <summary>Replace the instance with a fresh one; the mailbox is kept.</summary>
    Restart,

    /// <summary>Stop the child.</summary>
    Stop,

    /// <summary>Fail the supervisor itself with the same error.</summary>
    Escalate,
}

/// <summary>Builds deciders.</summary>
public static class Decider
{
    /// <summary>A decider from a function of the exception.</summary>
    public static Func<Exception, Directive> From(Func<Exception, Directive> decider) => decider;

    /// <summary>A decider from a table: the first entry whose type the exception is wins, else <paramref name="defaultDirective"/>.</summary>
    public static Func<Exception, Directive> From(Directive defaultDirective, params KeyValuePair<Type, Directive>[] pairs) =>
        exception =>
        {
            foreach (KeyValuePair<Type, Directive> pair in pairs)
            {
                if (pair.Key.IsInstanceOfType(exception))
                {
                    return pair.Value;
                }
            }

            return defaultDirective;
        };
}

/// <summary>
/// How a parent handles its children's failures: a decider maps the exception to a
/// <see cref="Directive"/>, and restarts are limited to a number within a time window (after
/// which the child is stopped).
/// </summary>
public abstract class SupervisorStrategy
{
    /// <summary>Creates a strategy.</summary>
    /// <param name="maxNrOfRetries">Restarts allowed within <paramref name="withinTimeRange"/>; negative or null: unlimited; 0: none.</param>
    /// <param name="withinTimeRange">The window for counting restarts; null or infinite: the whole life.</param>
    /// <param name="decider">Maps a failure to a directive.</param>
    /// <param name="loggingEnabled">Whether failures are logged.</param>
    protected SupervisorStrategy(int? maxNrOfRetries, TimeSpan? withinTimeRange, Func<Exception, Directive> decider, bool loggingEnabled)
    {
        ArgumentNullException.ThrowIfNull(decider);
        MaxNumberOfRetries = maxNrOfRetries ?? -1;
        WithinTimeRange = withinTimeRange is { } range && range > TimeSpan.Zero && range != Timeout.InfiniteTimeSpan ? range : null;
        Decider = decider;
        LoggingEnabled = loggingEnabled;
    }

    /// <summary>Akka's default decider: initialization, kill and death-pact failures stop the child; any other exception restarts it.</summary>
    public static Directive DefaultDecider(Exception exception) => exception switch
    {
        ActorInitializationException => Directive.Stop,
        ActorKilledException => Directive.Stop,
        DeathPactException => Directive.Stop,
        _ => Directive.Restart,
    };

    /// <summary>One-for-one with <see cref="DefaultDecider"/> and unlimited restarts: what every actor uses unless it overrides.</summary>
    public static SupervisorStrategy DefaultStrategy { get; } = new OneForOneStrategy(DefaultDecider);

    /// <summary>Stops any failing child.</summary>
    public static SupervisorStrategy StoppingStrategy { get; } = new OneForOneStrategy(_ => Directive.Stop);

    /// <summary>The restart limit (-1: unlimited).</summary>
    public int MaxNumberOfRetries { get; }

    /// <summary>The window restarts are counted in (null: the child's whole life).</summary>
    public TimeSpan? WithinTimeRange { get; }

    /// <summary>The decider.</summary>
    public Func<Exception, Directive> Decider { get; }

    /// <summary>Whether failures are logged.</summary>
    public bool LoggingEnabled { get; }

    /// <summary>The directive for <paramref name="exception"/>.</summary>
    public Directive Decide(Exception exception) => Decider(exception);

    internal bool RequestRestartPermission(ChildRestartStats stats, TimeSpan now) =>
        stats.RequestRestartPermission(MaxNumberOfRetries, WithinTimeRange, now);

    internal void LogFailure(ILoggingAdapter log, IActorRef child, Exception cause, Directive directive)
    {
        if (!LoggingEnabled)
        {
            return;
        }

        if (directive == Directive.Resume)
        {
            log.Warning("{0} failed and was resumed: {1}", child.Path, cause.Message);
        }
        else if (directive != Directive.Escalate)
        {
            log.Error(cause, "{0} failed ({1}): {2}", child.Path, directive, cause.Message);
        }
    }
}

/// <summary>Applies the directive to the failed child only.</summary>
public sealed class OneForOneStrategy : SupervisorStrategy
{
    /// <summary>Creates the strategy with a restart limit within a window.</summary>
    public OneForOneStrategy(int? maxNrOfRetries, TimeSpan? withinTimeRange, Func<Exception, Directive> localOnlyDecider, bool loggingEnabled = true)
        : base(maxNrOfRetries, withinTimeRange, localOnlyDecider, loggingEnabled)
    {
    }

    /// <summary>Creates the strategy with a restart limit within a window given in milliseconds.</summary>
    public OneForOneStrategy(int maxNrOfRetries, int withinTimeMilliseconds, Func<Exception, Directive> localOnlyDecider, bool loggingEnabled = true)
        : base(maxNrOfRetries, TimeSpan.FromMilliseconds(withinTimeMilliseconds), localOnlyDecider, loggingEnabled)
    {
    }

    /// <summary>Creates the strategy with unlimited restarts.</summary>
    public OneForOneStrategy(Func<Exception, Directive> localOnlyDecider)
        : base(null, null, localOnlyDecider, true)
    {
    }
}

/// <summary>Applies the directive to every child when one fails.</summary>
public sealed class AllForOneStrategy : SupervisorStrategy
{
    /// <summary>Creates the strategy with a restart limit within a window.</summary>
    public AllForOneStrategy(int? maxNrOfRetries, TimeSpan? withinTimeRange, Func<Exception, Directive> localOnlyDecider, bool loggingEnabled = true)
        : base(maxNrOfRetries, withinTimeRange, localOnlyDecider, loggingEnabled)
    {
    }

    /// <summary>Creates the strategy with a restart limit within a window given in milliseconds.</summary>
    public AllForOneStrategy(int maxNrOfRetries, int withinTimeMilliseconds, Func<Exception, Directive> localOnlyDecider, bool loggingEnabled = true)
        : base(maxNrOfRetries, TimeSpan.FromMilliseconds(withinTimeMilliseconds), localOnlyDecider, loggingEnabled)
    {
    }

    /// <summary>Creates the strategy with unlimited restarts.</summary>
    public AllForOneStrategy(Func<Exception, Directive> localOnlyDecider)
        : base(null, null, localOnlyDecider, true)
    {
    }
}

/// <summary>Restart bookkeeping for one child: a pure class, tested alone.</summary>
internal sealed class ChildRestartStats
{
    private int _restarts;
    private TimeSpan? _windowStart;

    /// <summary>Counts a restart and says whether it is still within the limit.</summary>
    public bool RequestRestartPermission(int maxRetries, TimeSpan? window, TimeSpan now)
    {
        if (maxRetries < 0 && window is null)
        {
            return true;
        }

        if (maxRetries == 0)
        {
            return false;
        }

        if (window is null)
        {
            _restarts++;
            return maxRetries < 0 || _restarts <= maxRetries;
        }

        if (_windowStart is null || now - _windowStart.Value > window.Value)
        {
            // A new window starts with this restart.
            _windowStart = now;
            _restarts = 1;
            return true;
        }

        _restarts++;
        return maxRetries < 0 || _restarts <= maxRetries;
    }
}
