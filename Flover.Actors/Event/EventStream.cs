using Flover.Actors.Runtime;

namespace Flover.Actors.Event;

/// <summary>
/// The system-wide publish/subscribe bus: dead letters, unhandled messages and log events are
/// published here. A subscriber receives every event that is an instance of a channel type it
/// subscribed to. Thread-safe; subscriptions are copy-on-write so publishing never locks.
/// </summary>
public sealed class EventStream
{
    private readonly object _gate = new();
    private (IActorRef Subscriber, Type Channel)[] _subscriptions = [];

    /// <summary>Subscribes <paramref name="subscriber"/> to events of <paramref name="channel"/> (and its subtypes).</summary>
    /// <returns>False when it was already subscribed to that channel.</returns>
    public bool Subscribe(IActorRef subscriber, Type channel)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        ArgumentNullException.ThrowIfNull(channel);
        lock (_gate)
        {
            if (Array.Exists(_subscriptions, s => s.Subscriber.Equals(subscriber) && s.Channel == channel))
            {
                return false;
            }

            _subscriptions = [.. _subscriptions, (subscriber, channel)];
            return true;
        }
    }

    /// <summary>Unsubscribes <paramref name="subscriber"/> from <paramref name="channel"/>.</summary>
    public bool Unsubscribe(IActorRef subscriber, Type channel)
    {
        lock (_gate)
        {
            int before = _subscriptions.Length;
            _subscriptions = Array.FindAll(_subscriptions, s => !(s.Subscriber.Equals(subscriber) && s.Channel == channel));
            return _subscriptions.Length != before;
        }
    }

    /// <summary>Unsubscribes <paramref name="subscriber"/> from every channel.</summary>
    public bool Unsubscribe(IActorRef subscriber)
    {
        lock (_gate)
        {
            int before = _subscriptions.Length;
            _subscriptions = Array.FindAll(_subscriptions, s => !s.Subscriber.Equals(subscriber));
            return _subscriptions.Length != before;
        }
    }

    /// <summary>Delivers <paramref name="event"/> once to every subscriber of a matching channel.</summary>
    public void Publish(object @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        (IActorRef Subscriber, Type Channel)[] subscriptions = Volatile.Read(ref _subscriptions);
        HashSet<IActorRef>? told = null;
        foreach ((IActorRef subscriber, Type channel) in subscriptions)
        {
            if (channel.IsInstanceOfType(@event) && (told ??= []).Add(subscriber))
            {
                subscriber.Tell(@event, ActorRefs.NoSender);
            }
        }
    }
}
