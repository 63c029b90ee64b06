using Flover.Actors.Configuration;
using Flover.Actors.Runtime;

namespace Flover.Testing;

/// <summary>
/// A scheduler on virtual time: nothing fires until the test calls <see cref="Advance"/>, which
/// runs every task that has come due, in due-time order. Select it with <see cref="Config"/>
/// (<c>akka.scheduler.implementation</c>), as Akka.NET's TestScheduler.
/// </summary>
public sealed class TestScheduler : SchedulerBase
{
    private readonly object _gate = new();
    private readonly SortedSet<(TimeSpan Due, long Sequence)> _order = [];
    private readonly Dictionary<long, (TimeSpan? Interval, Action Action, ICancelable? Cancelable)> _tasks = [];
    private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
    private TimeSpan _now;
    private long _sequence;

    /// <summary>Creates the scheduler (the actor system does, from configuration).</summary>
    public TestScheduler(Config config)
    {
        _ = config;
    }

    /// <summary>Configuration that makes an actor system use this scheduler.</summary>
    public static Config Config { get; } = ConfigurationFactory.ParseString(
        $"akka.scheduler.implementation = \"{typeof(TestScheduler).FullName}, {typeof(TestScheduler).Assembly.GetName().Name}\"");

    /// <inheritdoc />
    public override DateTimeOffset Now => _start + MonotonicClock;

    /// <inheritdoc />
    public override TimeSpan MonotonicClock
    {
        get
        {
            lock (_gate)
            {
                return _now;
            }
        }
    }

    /// <summary>Tasks waiting to fire.</summary>
    public int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _tasks.Count;
            }
        }
    }

    /// <summary>Moves virtual time forward by <paramref name="offset"/>, running what comes due (repeating tasks as often as they fall due).</summary>
    public void Advance(TimeSpan offset)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(offset, TimeSpan.Zero);
        TimeSpan target;
        lock (_gate)
        {
            target = _now + offset;
        }

        while (true)
        {
            Action action;
            lock (_gate)
            {
                if (_order.Count == 0 || _order.Min.Due > target)
                {
                    _now = target;
                    return;
                }

                (TimeSpan due, long sequence) = _order.Min;
                _order.Remove(_order.Min);
                var task = _tasks[sequence];
                _tasks.Remove(sequence);
                _now = due;
                if (task.Cancelable?.IsCancellationRequested == true)
                {
                    continue;
                }

                if (task.Interval is { } interval)
                {
                    Add(due + interval, task.Interval, task.Action, task.Cancelable);
                }

                action = task.Action;
            }

            // Run outside the lock: the action may schedule more work.
            action();
        }
    }

    /// <summary>Moves virtual time to <paramref name="when"/>.</summary>
    public void AdvanceTo(DateTimeOffset when) => Advance(when - Now);

    /// <inheritdoc />
    protected override void Schedule(TimeSpan delay, TimeSpan? interval, Action action, ICancelable? cancelable)
    {
        lock (_gate)
        {
            Add(_now + delay, interval, action, cancelable);
        }
    }

    private void Add(TimeSpan due, TimeSpan? interval, Action action, ICancelable? cancelable)
    {
        long sequence = ++_sequence;
        _order.Add((due, sequence));
        _tasks.Add(sequence, (interval, action, cancelable));
    }
}
