using Flover.Actors.Dispatch.SysMsg;

namespace Flover.Actors.Runtime;

/// <summary>Ask: send a message and get the reply as a task (Akka.NET's <c>Futures</c>).</summary>
public static class Futures
{
    /// <summary>Asks with the given timeout (null: <c>akka.actor.ask-timeout</c>).</summary>
    public static Task<object> Ask(this ICanTell self, object message, TimeSpan? timeout = null) =>
        Ask<object>(self, message, timeout, CancellationToken.None);

    /// <summary>Asks and expects a reply of type <typeparamref name="T"/>.</summary>
    public static Task<T> Ask<T>(this ICanTell self, object message, TimeSpan? timeout = null) =>
        Ask<T>(self, message, timeout, CancellationToken.None);

    /// <summary>Asks without a timeout but cancellable.</summary>
    public static Task<T> Ask<T>(this ICanTell self, object message, CancellationToken cancellationToken) =>
        Ask<T>(self, message, null, cancellationToken);

    /// <summary>
    /// Asks <paramref name="self"/>: the reply completes the task, a <see cref="Status.Failure"/>
    /// reply fails it with its cause, no reply within <paramref name="timeout"/> fails it with
    /// <see cref="AskTimeoutException"/>, and cancellation cancels it.
    /// </summary>
    public static Task<T> Ask<T>(this ICanTell self, object message, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(message);
        return Ask<T>(self, _ => message, timeout, cancellationToken);
    }

    /// <summary>Asks with a message built around the temporary reply-to reference.</summary>
    public static Task<T> Ask<T>(this ICanTell self, Func<IActorRef, object> messageFactory, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(messageFactory);
        ActorSystemImpl? system = SystemOf(self);
        TimeSpan effective = timeout ?? system?.Settings.AskTimeout ?? Timeout.InfiniteTimeSpan;
        var promise = new PromiseActorRef<T>(system, self);
        promise.Arm(effective, cancellationToken);
        self.Tell(messageFactory(promise), promise);
        return promise.Task;
    }

    internal static ActorSystemImpl? SystemOf(ICanTell target) => target switch
    {
        LocalActorRef local => local.Cell.SystemImpl,
        ActorSelection selection => (ActorSystemImpl)selection.System,
        _ => ActorCell.Current?.SystemImpl,
    };
}

/// <summary>The temporary reference an Ask's reply goes to.</summary>
internal sealed class PromiseActorRef<T> : ActorRefBase
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ActorSystemImpl? _system;
    private readonly ICanTell _target;
    private CancellationTokenRegistration _registration;
    private Cancelable? _timer;

    public PromiseActorRef(ActorSystemImpl? system, ICanTell target)
    {
        _system = system;
        _target = target;
        Path = system?.TempPath() ?? ActorPath.Root(new Address("akka", "temp")) / "$ask";
    }

    public Task<T> Task => _completion.Task;

    public override ActorPath Path { get; }

    public override IInternalActorRef Parent => this;

    public override bool IsTerminated => _completion.Task.IsCompleted;

    public void Arm(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.Register(() => _completion.TrySetCanceled(cancellationToken));
        }

        if (timeout != Timeout.InfiniteTimeSpan)
        {
            string what = $"Ask timed out on [{_target}] after [{timeout.TotalMilliseconds} ms]. Message type [{typeof(T).Name}].";
            if (_system is not null)
            {
                // The system scheduler: virtual time in tests drives Ask timeouts too.
                _timer = new Cancelable();
                _system.Scheduler.Advanced.ScheduleOnce(timeout, () => _completion.TrySetException(new AskTimeoutException(what)), _timer);
            }
            else
            {
                _ = System.Threading.Tasks.Task.Delay(timeout, CancellationToken.None)
                    .ContinueWith(_ => _completion.TrySetException(new AskTimeoutException(what)), TaskScheduler.Default);
            }
        }

        _completion.Task.ContinueWith(_ => Cleanup(), TaskScheduler.Default);
    }

    public override void Tell(object message, IActorRef? sender)
    {
        switch (message)
        {
            case Status.Failure failure:
                _completion.TrySetException(failure.Cause);
                break;
            case T reply:
                _completion.TrySetResult(reply);
                break;
            default:
                _completion.TrySetException(new InvalidCastException($"Ask expected a reply of type [{typeof(T)}] but received [{message.GetType()}]: {message}"));
                break;
        }
    }

    private void Cleanup()
    {
        _registration.Dispose();
        _timer?.Cancel();
    }
}

/// <summary>PipeTo and GracefulStop.</summary>
public static class PipeToSupport
{
    /// <summary>Sends the task's result (or <see cref="Status.Failure"/>) to <paramref name="recipient"/> when it completes.</summary>
    public static async Task PipeTo<T>(this Task<T> taskToPipe, ICanTell recipient, IActorRef? sender = null, Func<T, object>? success = null, Func<Exception, object>? failure = null)
    {
        ArgumentNullException.ThrowIfNull(taskToPipe);
        ArgumentNullException.ThrowIfNull(recipient);
        try
        {
            T result = await taskToPipe.ConfigureAwait(false);
            recipient.Tell(success is null ? result! : success(result), sender);
        }
        catch (Exception exception)
        {
            recipient.Tell(failure is null ? new Status.Failure(exception) : failure(exception), sender);
        }
    }

    /// <summary>Sends <paramref name="success"/>'s message (or <see cref="Status.Failure"/>) when the task completes.</summary>
    public static async Task PipeTo(this Task taskToPipe, ICanTell recipient, IActorRef? sender = null, Func<object>? success = null, Func<Exception, object>? failure = null)
    {
        ArgumentNullException.ThrowIfNull(taskToPipe);
        ArgumentNullException.ThrowIfNull(recipient);
        try
        {
            await taskToPipe.ConfigureAwait(false);
            if (success is not null)
            {
                recipient.Tell(success(), sender);
            }
        }
        catch (Exception exception)
        {
            recipient.Tell(failure is null ? new Status.Failure(exception) : failure(exception), sender);
        }
    }
}

/// <summary>GracefulStop: stop an actor after its queued messages and wait for its death.</summary>
public static class GracefulStopSupport
{
    /// <summary>Sends <see cref="PoisonPill"/> and completes with true once the actor has terminated.</summary>
    public static Task<bool> GracefulStop(this IActorRef target, TimeSpan timeout) => GracefulStop(target, timeout, PoisonPill.Instance);

    /// <summary>
    /// Sends <paramref name="stopMessage"/> and completes with true once the actor has terminated;
    /// fails with <see cref="AskTimeoutException"/> if it has not within <paramref name="timeout"/>.
    /// </summary>
    public static Task<bool> GracefulStop(this IActorRef target, TimeSpan timeout, object stopMessage)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(stopMessage);
        if (target is not IInternalActorRef internalTarget)
        {
            throw new ArgumentException($"{target} is not an actor reference of this runtime.", nameof(target));
        }

        var watcher = new DeathWatcherRef(Futures.SystemOf(target), target);
        watcher.Arm(timeout);
        internalTarget.SendSystemMessage(new Watch(internalTarget, watcher));
        target.Tell(stopMessage, ActorRefs.NoSender);
        return watcher.Task;
    }

    private sealed class DeathWatcherRef : ActorRefBase
    {
        private readonly TaskCompletionSource<bool> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ActorSystemImpl? _system;
        private readonly IActorRef _target;

        public DeathWatcherRef(ActorSystemImpl? system, IActorRef target)
        {
            _system = system;
            _target = target;
            Path = system?.TempPath() ?? ActorPath.Root(new Address("akka", "temp")) / "$stop";
        }

        public Task<bool> Task => _completion.Task;

        public override ActorPath Path { get; }

        public override IInternalActorRef Parent => this;

        public void Arm(TimeSpan timeout)
        {
            if (timeout == Timeout.InfiniteTimeSpan)
            {
                return;
            }

            var timer = new Cancelable();
            Action fail = () => _completion.TrySetException(new AskTimeoutException($"GracefulStop of [{_target}] timed out after [{timeout.TotalMilliseconds} ms]."));
            if (_system is not null)
            {
                _system.Scheduler.Advanced.ScheduleOnce(timeout, fail, timer);
            }
            else
            {
                _ = System.Threading.Tasks.Task.Delay(timeout, timer.Token).ContinueWith(_ => fail(), TaskContinuationOptions.OnlyOnRanToCompletion);
            }

            _completion.Task.ContinueWith(_ => timer.Cancel(), TaskScheduler.Default);
        }

        public override void Tell(object message, IActorRef? sender)
        {
        }

        public override void SendSystemMessage(SystemMessage message)
        {
            if (message is DeathWatchNotification notification && notification.Actor.Equals(_target))
            {
                _completion.TrySetResult(true);
            }
        }
    }
}
