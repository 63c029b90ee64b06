namespace Flover.Actors.Runtime;

internal sealed partial class ActorCell
{
    private TimeSpan? _receiveTimeout;
    private ICancelable? _receiveTimeoutTimer;
    private int _receiveTimeoutGeneration;

    public TimeSpan? ReceiveTimeout => _receiveTimeout;

    public void SetReceiveTimeout(TimeSpan? timeout)
    {
        _receiveTimeout = timeout is { } value && value > TimeSpan.Zero && value != Timeout.InfiniteTimeSpan ? value : null;
        RescheduleReceiveTimeout();
    }

    private void RescheduleReceiveTimeout()
    {
        _receiveTimeoutTimer?.Cancel();
        _receiveTimeoutTimer = null;
        if (_receiveTimeout is { } timeout && !_terminating)
        {
            // A generation number makes a tick that was already queued when the timer was reset harmless.
            int generation = ++_receiveTimeoutGeneration;
            _receiveTimeoutTimer = _system.Scheduler.ScheduleTellOnceCancelable(timeout, Self, new ReceiveTimeoutTick(generation), null);
        }
    }

    private void CancelReceiveTimeout()
    {
        _receiveTimeoutTimer?.Cancel();
        _receiveTimeoutTimer = null;
        _receiveTimeoutGeneration++;
    }

    private void HandleReceiveTimeoutTick(ReceiveTimeoutTick tick)
    {
        if (tick.Generation != _receiveTimeoutGeneration || _receiveTimeout is null)
        {
            return;
        }

        ReceiveMessage(Runtime.ReceiveTimeout.Instance);
        // Keeps firing while the actor stays idle, as in Akka.NET.
        RescheduleReceiveTimeout();
    }
}

/// <summary>The scheduled tick behind a receive timeout; stale generations are ignored.</summary>
internal sealed record ReceiveTimeoutTick(int Generation) : IAutoReceivedMessage, INotInfluenceReceiveTimeout, IDeadLetterSuppression;
