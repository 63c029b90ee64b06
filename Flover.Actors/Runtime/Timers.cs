namespace Flover.Actors.Runtime;

/// <summary>An actor with keyed timers; the runtime sets <see cref="Timers"/> before <c>PreStart</c>.</summary>
public interface IWithTimers
{
    /// <summary>The actor's timers.</summary>
    ITimerScheduler Timers { get; set; }
}

/// <summary>
/// Timers owned by one actor, addressed by key. Starting a timer with a key in use replaces it,
/// and a message from a cancelled or replaced timer is never delivered, even if it was already
/// queued. All timers are cancelled when the actor stops or restarts.
/// </summary>
public interface ITimerScheduler
{
    /// <summary>Sends <paramref name="msg"/> to self every <paramref name="interval"/>.</summary>
    void StartPeriodicTimer(object key, object msg, TimeSpan interval);

    /// <summary>Sends <paramref name="msg"/> to self after <paramref name="initialDelay"/>, then every <paramref name="interval"/>.</summary>
    void StartPeriodicTimer(object key, object msg, TimeSpan initialDelay, TimeSpan interval);

    /// <summary>Sends <paramref name="msg"/> to self once after <paramref name="timeout"/>.</summary>
    void StartSingleTimer(object key, object msg, TimeSpan timeout);

    /// <summary>True while the timer with <paramref name="key"/> is active.</summary>
    bool IsTimerActive(object key);

    /// <summary>Cancels the timer with <paramref name="key"/>.</summary>
    void Cancel(object key);

    /// <summary>Cancels every timer.</summary>
    void CancelAll();
}

/// <summary>The timers of one cell; used only on the actor's own thread.</summary>
internal sealed class TimerScheduler(ActorCell cell) : ITimerScheduler
{
    private readonly Dictionary<object, (int Generation, ICancelable Handle, bool Repeating)> _timers = [];
    private int _generation;

    public void StartPeriodicTimer(object key, object msg, TimeSpan interval) => StartPeriodicTimer(key, msg, interval, interval);

    public void StartPeriodicTimer(object key, object msg, TimeSpan initialDelay, TimeSpan interval) => Start(key, msg, initialDelay, interval);

    public void StartSingleTimer(object key, object msg, TimeSpan timeout) => Start(key, msg, timeout, null);

    public bool IsTimerActive(object key) => _timers.ContainsKey(key);

    public void Cancel(object key)
    {
        if (_timers.Remove(key, out var timer))
        {
            timer.Handle.Cancel();
        }
    }

    public void CancelAll()
    {
        foreach (var timer in _timers.Values)
        {
            timer.Handle.Cancel();
        }

        _timers.Clear();
    }

    /// <summary>Whether a queued timer message is still current (and, for a single timer, retires it).</summary>
    public bool Accept(TimerMessage message)
    {
        if (!_timers.TryGetValue(message.Key, out var timer) || timer.Generation != message.Generation)
        {
            return false;
        }

        if (!timer.Repeating)
        {
            _timers.Remove(message.Key);
        }

        return true;
    }

    private void Start(object key, object msg, TimeSpan delay, TimeSpan? interval)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(msg);
        Cancel(key);
        int generation = ++_generation;
        var message = new TimerMessage(key, generation, msg, this);
        IScheduler scheduler = cell.System.Scheduler;
        ICancelable handle = interval is { } every
            ? scheduler.ScheduleTellRepeatedlyCancelable(delay, every, cell.Self, message, cell.Self)
            : scheduler.ScheduleTellOnceCancelable(delay, cell.Self, message, cell.Self);
        _timers[key] = (generation, handle, interval is not null);
    }
}

/// <summary>A timer's message on its way through the mailbox.</summary>
internal sealed record TimerMessage(object Key, int Generation, object Message, TimerScheduler Owner) : IAutoReceivedMessage, IDeadLetterSuppression;
