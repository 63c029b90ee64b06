using System.Runtime.ExceptionServices;
using Flover.Actors.Dispatch.SysMsg;

namespace Flover.Actors.Runtime;

internal sealed partial class ActorCell
{
    private bool _awaitingAsync;
    private IActorRef? _asyncSender;
    private ActorSynchronizationContext? _synchronizationContext;

    /// <summary>
    /// Runs a <c>ReceiveAsync</c> handler. If its task does not complete at once, the mailbox takes
    /// no user message until it does; the code after each await is posted back to this actor as a
    /// system message, so it runs one piece at a time with the actor's context and sender.
    /// </summary>
    public void RunAsyncHandler(Func<Task> handler, object message)
    {
        Task task;
        // Set before the handler runs: its first await may post a continuation at once.
        _asyncSender = _sender;
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_synchronizationContext ??= new ActorSynchronizationContext(this));
        try
        {
            task = handler();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        if (task.IsCompletedSuccessfully)
        {
            return;
        }

        if (task.IsCompleted)
        {
            ThrowTaskFailure(task);
        }

        _awaitingAsync = true;
        task.ContinueWith(
            completed => _mailbox.PostSystem(new AsyncReceiveCompleted(completed, message)),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void RunContinuation(ExecuteContinuation continuation)
    {
        if (_actor is null)
        {
            return;
        }

        _sender = continuation.Sender ?? _system.DeadLetters;
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_synchronizationContext);
        try
        {
            continuation.Callback(continuation.State);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private void CompleteAsyncReceive(AsyncReceiveCompleted completed)
    {
        if (!_awaitingAsync)
        {
            return;
        }

        _awaitingAsync = false;
        _asyncSender = null;
        if (!completed.Task.IsCompletedSuccessfully)
        {
            _sender = _system.DeadLetters;
            try
            {
                ThrowTaskFailure(completed.Task);
            }
            catch (Exception exception)
            {
                HandleInvokeFailure(exception, completed.Message);
            }
        }
    }

    private static void ThrowTaskFailure(Task task)
    {
        if (task.Exception is { } aggregate)
        {
            ExceptionDispatchInfo.Throw(aggregate.InnerExceptions.Count == 1 ? aggregate.InnerExceptions[0] : aggregate);
        }

        throw new TaskCanceledException(task);
    }

    /// <summary>Posts await continuations of a ReceiveAsync handler back into the actor's mailbox.</summary>
    private sealed class ActorSynchronizationContext(ActorCell cell) : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) =>
            cell._mailbox.PostSystem(new ExecuteContinuation(d, state, cell._asyncSender));

        public override SynchronizationContext CreateCopy() => this;
    }
}
