using Flover.Actors.Dispatch.SysMsg;

namespace Flover.Actors.Runtime;

internal sealed partial class ActorCell
{
    private Dictionary<IActorRef, ChildRestartStats>? _childStats;
    private bool _failed;
    private object? _failedMessage;

    /// <summary>
    /// The actor threw: suspend it (no further user messages) and let the parent decide. The
    /// failed message is not retried.
    /// </summary>
    private void HandleInvokeFailure(Exception exception, object? message)
    {
        if (_terminating || _terminated)
        {
            _system.Log.Error(exception, "{0} failed while stopping", Self.Path);
            return;
        }

        if (_failed)
        {
            // Already waiting for the supervisor's decision on an earlier failure.
            _system.Log.Error(exception, "{0} failed again while suspended", Self.Path);
            return;
        }

        _failed = true;
        _failedMessage = message;
        _awaitingAsync = false;
        Parent.SendSystemMessage(new Failed(Self, exception, Self.Path.Uid));
    }

    private void HandleChildFailed(Failed failed)
    {
        if (!IsChild(failed.Child))
        {
            return;
        }

        SupervisorStrategy strategy = Props.SupervisorStrategy ?? _actor?.SupervisorStrategyInternal ?? _system.GuardianStrategyFor(this);
        _childStats ??= [];
        if (!_childStats.TryGetValue(failed.Child, out ChildRestartStats? stats))
        {
            stats = new ChildRestartStats();
            _childStats.Add(failed.Child, stats);
        }

        Directive directive = strategy.Decide(failed.Cause);
        strategy.LogFailure(_system.Log, failed.Child, failed.Cause, directive);
        IReadOnlyList<IActorRef> targets = strategy is AllForOneStrategy ? [.. GetChildren()] : [failed.Child];
        switch (directive)
        {
            case Directive.Resume:
                failed.Child.SendSystemMessage(new Resume(failed.Cause));
                break;
            case Directive.Restart when strategy.RequestRestartPermission(stats, _system.Scheduler.MonotonicClock):
                foreach (IActorRef target in targets)
                {
                    ((IInternalActorRef)target).SendSystemMessage(new Recreate(failed.Cause));
                }

                break;
            case Directive.Restart:
            case Directive.Stop:
                foreach (IActorRef target in targets)
                {
                    Stop(target);
                }

                break;
            case Directive.Escalate:
                // This actor fails with the child's error; its own supervisor decides.
                HandleInvokeFailure(failed.Cause, null);
                break;
        }
    }
}
