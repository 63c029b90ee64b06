using Flover.Actors.Dispatch.SysMsg;

namespace Flover.Actors.Runtime;

internal sealed partial class ActorCell
{
    // Actors this actor watches, with the message to deliver (null: Terminated).
    // Allocated on first use: most actors never watch or are watched (memory per idle actor).
    private Dictionary<IActorRef, object?>? _watching;

    // Notifications received but not yet delivered through the mailbox: an Unwatch in between
    // removes the entry, so no Terminated arrives after Unwatch returns.
    private HashSet<IActorRef>? _terminatedPending;

    // Actors watching this one.
    private HashSet<IInternalActorRef>? _watchedBy;

    public IActorRef Watch(IActorRef subject) => WatchInternal(subject, null);

    public IActorRef WatchWith(IActorRef subject, object message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return WatchInternal(subject, message);
    }

    public IActorRef Unwatch(IActorRef subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        _terminatedPending?.Remove(subject);
        if (_watching?.Remove(subject) == true && subject is IInternalActorRef target)
        {
            target.SendSystemMessage(new Unwatch(target, Self));
        }

        return subject;
    }

    private IActorRef WatchInternal(IActorRef subject, object? message)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (subject.Equals(Self))
        {
            return subject;
        }

        _watching ??= [];
        if (_watching.TryGetValue(subject, out object? existing))
        {
            if (!Equals(existing, message))
            {
                throw new InvalidOperationException($"Watch({subject}) with a different message: Unwatch first.");
            }

            return subject;
        }

        _watching.Add(subject, message);
        if (subject is IInternalActorRef target)
        {
            target.SendSystemMessage(new Watch(target, Self));
        }

        return subject;
    }

    private void AddWatcher(Watch watch)
    {
        if (!watch.Watchee.Equals(Self) || watch.Watcher.Equals(Self))
        {
            return;
        }

        if (_terminated)
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(Self, ExistenceConfirmed: false, AddressTerminated: false));
            return;
        }

        (_watchedBy ??= []).Add(watch.Watcher);
    }

    private void RemoveWatcher(Unwatch unwatch)
    {
        if (unwatch.Watchee.Equals(Self))
        {
            _watchedBy?.Remove(unwatch.Watcher);
        }
    }

    private void HandleDeathWatchNotification(DeathWatchNotification notification)
    {
        IActorRef actor = notification.Actor;
        if (_watching is not null && _watching.Remove(actor, out object? custom))
        {
            (_terminatedPending ??= []).Add(actor);
            // Delivered through the mailbox: messages the dead actor sent before it died, already
            // queued here, are processed before its Terminated.
            Self.Tell(new WatchedActorTerminated(new Terminated(actor, notification.ExistenceConfirmed, notification.AddressTerminated), custom), actor);
        }

        if (RemoveChild(actor))
        {
            if (_terminating && ChildCount == 0)
            {
                FinishTerminate();
            }
            else
            {
                FinishRecreateWhenChildrenStopped();
            }
        }
    }

    private void DeliverTerminated(WatchedActorTerminated watched)
    {
        if (_terminatedPending?.Remove(watched.Terminated.ActorRef) != true)
        {
            return;
        }

        ReceiveMessage(watched.CustomMessage ?? watched.Terminated);
    }

    private void TellWatchersWeDied()
    {
        foreach (IInternalActorRef watcher in _watchedBy ?? [])
        {
            // The parent learns of its child's death separately; a parent that also watches gets
            // both notifications, and the second finds nothing left to deliver.
            watcher.SendSystemMessage(new DeathWatchNotification(Self, ExistenceConfirmed: true, AddressTerminated: false));
        }

        _watchedBy = null;
    }

    private void UnwatchWatchedActors()
    {
        foreach (IActorRef subject in _watching?.Keys ?? Enumerable.Empty<IActorRef>())
        {
            (subject as IInternalActorRef)?.SendSystemMessage(new Unwatch((IInternalActorRef)subject, Self));
        }

        _watching = null;
        _terminatedPending = null;
    }
}

/// <summary>A watched actor's death on its way through the watcher's mailbox.</summary>
internal sealed record WatchedActorTerminated(Terminated Terminated, object? CustomMessage) : IAutoReceivedMessage, IDeadLetterSuppression;
