using System.Collections.Concurrent;
using System.Diagnostics;

namespace Flover.Actors.Runtime;

/// <summary>Something scheduled that can be cancelled.</summary>
public interface ICancelable
{
    /// <summary>True once cancelled.</summary>
    bool IsCancellationRequested { get; }

    /// <summary>Cancels; a cancelled task never runs (again).</summary>
    void Cancel();
}

/// <summary>A plain cancellation flag with a token.</summary>
public sealed class Cancelable : ICancelable, IDisposable
{
    private readonly CancellationTokenSource _source = new();

    /// <inheritdoc />
    public bool IsCancellationRequested => _source.IsCancellationRequested;

    /// <summary>A token cancelled with this object.</summary>
    public CancellationToken Token => _source.Token;

    /// <inheritdoc />
    public void Cancel() => _source.Cancel();

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();
}

/// <summary>Schedules actions (Akka.NET's <c>IActionScheduler</c>).</summary>
public interface IActionScheduler
{
    /// <summary>Runs <paramref name="action"/> once after <paramref name="delay"/>, unless cancelled.</summary>
    void ScheduleOnce(TimeSpan delay, Action action, ICancelable? cancelable = null);

    /// <summary>Runs <paramref name="action"/> after <paramref name="initialDelay"/>, then every <paramref name="interval"/>, until cancelled.</summary>
    void ScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable? cancelable = null);
}

/// <summary>
/// The actor system's scheduler: tells messages later or repeatedly. The default runs on .NET
/// timers; tests use a virtual-time scheduler advanced by hand (<c>akka.scheduler.implementation</c>).
/// </summary>
public interface IScheduler
{
    /// <summary>The scheduler's wall-clock time.</summary>
    DateTimeOffset Now { get; }

    /// <summary>A monotonic time since the scheduler started (virtual under test).</summary>
    TimeSpan MonotonicClock { get; }

    /// <summary>The action scheduler behind it.</summary>
    IActionScheduler Advanced { get; }

    /// <summary>Tells <paramref name="message"/> to <paramref name="receiver"/> after <paramref name="delay"/>.</summary>
    void ScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef? sender, ICancelable? cancelable = null);

    /// <summary>Tells <paramref name="message"/> after <paramref name="initialDelay"/>, then every <paramref name="interval"/>.</summary>
    void ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message, IActorRef? sender, ICancelable? cancelable = null);
}

/// <summary>Cancelable variants, as Akka.NET's scheduler extensions.</summary>
public static class SchedulerExtensions
{
    /// <summary>Schedules a single tell and returns the handle that cancels it.</summary>
    public static ICancelable ScheduleTellOnceCancelable(this IScheduler scheduler, TimeSpan delay, ICanTell receiver, object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        var cancelable = new Cancelable();
        scheduler.ScheduleTellOnce(delay, receiver, message, sender, cancelable);
        return cancelable;
    }

    /// <summary>Schedules a repeated tell and returns the handle that cancels it.</summary>
    public static ICancelable ScheduleTellRepeatedlyCancelable(this IScheduler scheduler, TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        var cancelable = new Cancelable();
        scheduler.ScheduleTellRepeatedly(initialDelay, interval, receiver, message, sender, cancelable);
        return cancelable;
    }
}

/// <summary>Shared argument checks and the tell-to-action mapping of schedulers.</summary>
public abstract class SchedulerBase : IScheduler, IActionScheduler
{
    /// <inheritdoc />
    public abstract DateTimeOffset Now { get; }

    /// <inheritdoc />
    public abstract TimeSpan MonotonicClock { get; }

    /// <inheritdoc />
    public IActionScheduler Advanced => this;

    /// <inheritdoc />
    public void ScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef? sender, ICancelable? cancelable = null)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(message);
        ScheduleOnce(delay, () => receiver.Tell(message, sender), cancelable);
    }

    /// <inheritdoc />
    public void ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message, IActorRef? sender, ICancelable? cancelable = null)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(message);
        ScheduleRepeatedly(initialDelay, interval, () => receiver.Tell(message, sender), cancelable);
    }

    /// <inheritdoc />
    public void ScheduleOnce(TimeSpan delay, Action action, ICancelable? cancelable = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        Schedule(delay, null, action, cancelable);
    }

    /// <inheritdoc />
    public void ScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable? cancelable = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentOutOfRangeException.ThrowIfLessThan(initialDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        Schedule(initialDelay, interval, action, cancelable);
    }

    /// <summary>Runs <paramref name="action"/> after <paramref name="delay"/> (then every <paramref name="interval"/> when given) until cancelled.</summary>
    protected abstract void Schedule(TimeSpan delay, TimeSpan? interval, Action action, ICancelable? cancelable);
}

/// <summary>The default scheduler: one .NET timer per scheduled task, held until it fires or is cancelled.</summary>
public sealed class DefaultScheduler : SchedulerBase, IDisposable
{
    // Timers nobody references may be collected before they fire; keep them here.
    private readonly ConcurrentDictionary<ITimer, byte> _timers = new();
    private readonly long _start = Stopwatch.GetTimestamp();
    private volatile bool _disposed;

    /// <inheritdoc />
    public override DateTimeOffset Now => DateTimeOffset.UtcNow;

    /// <inheritdoc />
    public override TimeSpan MonotonicClock => Stopwatch.GetElapsedTime(_start);

    /// <inheritdoc />
    protected override void Schedule(TimeSpan delay, TimeSpan? interval, Action action, ICancelable? cancelable)
    {
        if (_disposed || cancelable?.IsCancellationRequested == true)
        {
            return;
        }

        ITimer? timer = null;
        timer = TimeProvider.System.CreateTimer(
            _ =>
            {
                if (cancelable?.IsCancellationRequested == true || _disposed)
                {
                    Release(timer!);
                    return;
                }

                if (interval is null)
                {
                    Release(timer!);
                }

                action();
            },
            null,
            Timeout.InfiniteTimeSpan,
            Timeout.InfiniteTimeSpan);
        _timers.TryAdd(timer, 0);
        if (cancelable is Cancelable { } withToken)
        {
            withToken.Token.Register(() => Release(timer));
        }

        // Armed only after it is registered, so a zero delay cannot fire before bookkeeping.
        timer.Change(delay, interval ?? Timeout.InfiniteTimeSpan);
    }

    /// <summary>Stops every timer.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (ITimer timer in _timers.Keys)
        {
            Release(timer);
        }
    }

    private void Release(ITimer timer)
    {
        if (_timers.TryRemove(timer, out _))
        {
            timer.Dispose();
        }
    }
}
