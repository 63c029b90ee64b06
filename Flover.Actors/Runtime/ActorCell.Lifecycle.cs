using Flover.Actors.Dispatch.SysMsg;

namespace Flover.Actors.Runtime;

internal sealed partial class ActorCell
{
    private bool _terminating;
    private volatile bool _terminated;
    private bool _restartPending;
    private Exception? _restartCause;

    /// <summary>True once the actor has terminated (PostStop done, watchers told).</summary>
    public bool IsTerminated => _terminated;

    private void CreateActor()
    {
        if (_terminating)
        {
            return;
        }

        ActorBase actor;
        try
        {
            actor = Props.NewActor();
        }
        catch (Exception exception)
        {
            throw new ActorInitializationException(Self, $"Exception while creating actor {Self.Path}: {Unwrap(exception).Message}", Unwrap(exception));
        }

        InstallActor(actor);
        if (_system.Settings.DebugLifecycle)
        {
            _system.Log.Debug("Started {0} ({1})", Self.Path, actor.GetType().Name);
        }

        try
        {
            actor.AroundPreStart();
        }
        catch (Exception exception)
        {
            throw new ActorInitializationException(Self, $"Exception in PreStart of {Self.Path}: {exception.Message}", exception);
        }
    }

    private void BeginTerminate()
    {
        if (_terminating || _terminated)
        {
            return;
        }

        _terminating = true;
        CancelReceiveTimeout();
        IEnumerable<IActorRef> children = GetChildren();
        foreach (IActorRef child in children)
        {
            (_stoppingChildren ??= []).Add(child);
            ((IInternalActorRef)child).SendSystemMessage(new Terminate());
        }

        if (ChildCount == 0)
        {
            FinishTerminate();
        }
    }

    /// <summary>Called when the last child is gone (or there were none): PostStop, then tell the world.</summary>
    private void FinishTerminate()
    {
        ActorBase? actor = _actor;
        (actor as IWithTimers)?.Timers?.CancelAll();
        try
        {
            if (actor is not null)
            {
                actor.AroundPostStop();
            }
        }
        catch (Exception exception)
        {
            _system.Log.Error(exception, "PostStop of {0} failed", Self.Path);
        }
        finally
        {
            _actor = null;
            _behaviors.Clear();
            _terminated = true;
            // Closing routes every message still queued, and every later one, to dead letters;
            // a Watch arriving from now on is answered at once (HandleSystemMessageWhenDead).
            _mailbox.Close();
            TellWatchersWeDied();
            UnwatchWatchedActors();
            Parent.SendSystemMessage(new DeathWatchNotification(Self, ExistenceConfirmed: true, AddressTerminated: false));
            _dispatcher.Detach(_mailbox);
            if (_system.Settings.DebugLifecycle)
            {
                _system.Log.Debug("Stopped {0}", Self.Path);
            }
        }
    }

    private void FaultRecreate(Exception cause)
    {
        if (_terminating)
        {
            return;
        }

        if (_actor is null)
        {
            // Failed while being created: there is no instance to restart, so create one afresh.
            _failed = false;
            CreateActor();
            return;
        }

        ActorBase failed = _actor;
        (failed as IWithTimers)?.Timers.CancelAll();
        try
        {
            (failed as IActorStash)?.Stash.UnstashAll();
            failed.AroundPreRestart(cause, _failedMessage);
        }
        catch (Exception exception)
        {
            _system.Log.Error(exception, "PreRestart of {0} failed", Self.Path);
        }

        _restartPending = true;
        _restartCause = cause;
        FinishRecreateWhenChildrenStopped();
    }

    /// <summary>A restart waits for the children PreRestart stopped, so their names are free again.</summary>
    private void FinishRecreateWhenChildrenStopped()
    {
        if (!_restartPending || _stoppingChildren?.Count > 0)
        {
            return;
        }

        Exception cause = _restartCause!;
        _restartPending = false;
        _restartCause = null;
        _failed = false;
        _failedMessage = null;
        ActorBase fresh;
        try
        {
            fresh = Props.NewActor();
        }
        catch (Exception exception)
        {
            throw new ActorInitializationException(Self, $"Exception while re-creating actor {Self.Path}: {Unwrap(exception).Message}", Unwrap(exception));
        }

        InstallActor(fresh);
        if (_system.Settings.DebugLifecycle)
        {
            _system.Log.Debug("Restarted {0} after {1}", Self.Path, cause.GetType().Name);
        }

        try
        {
            fresh.AroundPostRestart(cause);
        }
        catch (Exception exception)
        {
            throw new ActorInitializationException(Self, $"Exception in PostRestart of {Self.Path}: {exception.Message}", exception);
        }
    }

    /// <summary>Makes <paramref name="actor"/> the current instance: behaviour, stash and timers.</summary>
    private void InstallActor(ActorBase actor)
    {
        _actor = actor;
        _behaviors.Clear();
        _behaviors.Add(actor.Receive);
        if (actor is IActorStash withStash)
        {
            withStash.Stash = new UnboundedStash(this);
        }

        if (actor is IWithTimers withTimers)
        {
            withTimers.Timers = new TimerScheduler(this);
        }
    }

    /// <summary>A system message reached the mailbox after the actor terminated.</summary>
    public void HandleSystemMessageWhenDead(SystemMessage message)
    {
        if (message is Watch watch && watch.Watchee.Equals(Self) && !watch.Watcher.Equals(Self))
        {
            // Watching a dead actor still yields exactly one Terminated.
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(Self, ExistenceConfirmed: false, AddressTerminated: false));
        }
    }

    private static Exception Unwrap(Exception exception) =>
        exception is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : exception;
}
