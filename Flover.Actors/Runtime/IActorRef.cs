using Flover.Actors.Dispatch.SysMsg;

namespace Flover.Actors.Runtime;

/// <summary>Something a message can be told to: an actor reference or an actor selection.</summary>
public interface ICanTell
{
    /// <summary>Sends <paramref name="message"/> with <paramref name="sender"/> as its sender (null: no sender).</summary>
    void Tell(object message, IActorRef? sender);
}

/// <summary>
/// An immutable, shareable handle to an actor. Messages told to it are delivered in order per
/// sender; after the actor has terminated they go to dead letters. Equality is by path and uid.
/// </summary>
public interface IActorRef : ICanTell, IEquatable<IActorRef>, IComparable<IActorRef>
{
    /// <summary>The actor's path, including its incarnation uid.</summary>
    ActorPath Path { get; }
}

/// <summary>The runtime's view of a reference: it can also take system messages.</summary>
internal interface IInternalActorRef : IActorRef
{
    /// <summary>The parent reference (the root guardian's parent is itself).</summary>
    IInternalActorRef Parent { get; }

    /// <summary>True once the actor has terminated (best effort; a local ref knows for sure).</summary>
    bool IsTerminated { get; }

    /// <summary>Delivers a system message: processed before any user message.</summary>
    void SendSystemMessage(SystemMessage message);
}

/// <summary>Well-known references.</summary>
public static class ActorRefs
{
    /// <summary>The reference that is no actor: messages to it go to dead letters.</summary>
    public static readonly IActorRef Nobody = NobodyActorRef.Instance;

    /// <summary>"No sender" (null): replies to it go to dead letters.</summary>
    public static readonly IActorRef? NoSender;
}

/// <summary>Telling with the implicit sender, as inside an actor in Akka.NET.</summary>
public static class ActorRefImplicitSenderExtensions
{
    /// <summary>
    /// Sends <paramref name="message"/> with the current actor as sender (inside an actor), the
    /// TestKit's test actor (in a test) or no sender.
    /// </summary>
    public static void Tell(this ICanTell receiver, object message)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        receiver.Tell(message, ActorCell.GetCurrentSelfOrNoSender());
    }

    /// <summary>Sends <paramref name="message"/> keeping the sender of the message being processed.</summary>
    public static void Forward(this ICanTell receiver, object message)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        receiver.Tell(message, ActorCell.GetCurrentSenderOrNoSender());
    }
}

/// <summary>Shared equality and ordering for reference implementations.</summary>
internal abstract class ActorRefBase : IInternalActorRef
{
    public abstract ActorPath Path { get; }

    public abstract IInternalActorRef Parent { get; }

    public virtual bool IsTerminated => false;

    public abstract void Tell(object message, IActorRef? sender);

    public virtual void SendSystemMessage(SystemMessage message)
    {
    }

    public bool Equals(IActorRef? other) => other is not null && Path.Uid == other.Path.Uid && Path.Equals(other.Path);

    public override bool Equals(object? obj) => obj is IActorRef other && Equals(other);

    public override int GetHashCode() => Path.GetHashCode();

    public int CompareTo(IActorRef? other)
    {
        if (other is null)
        {
            return 1;
        }

        int byPath = Path.CompareTo(other.Path);
        return byPath != 0 ? byPath : Path.Uid.CompareTo(other.Path.Uid);
    }

    public override string ToString() => $"[{Path}#{Path.Uid}]";
}

/// <summary><see cref="ActorRefs.Nobody"/>: a sink that routes to dead letters when a system is known.</summary>
internal sealed class NobodyActorRef : ActorRefBase
{
    public static readonly NobodyActorRef Instance = new();

    private static readonly ActorPath s_path = ActorPath.Root(new Address("akka", "all-systems")) / "Nobody";

    public override ActorPath Path => s_path;

    public override IInternalActorRef Parent => this;

    public override bool IsTerminated => true;

    public override void Tell(object message, IActorRef? sender)
    {
        // Nobody belongs to no system; when told from inside an actor, its system records the dead letter.
        ActorCell.Current?.SystemImpl.DeadLetters.Tell(new DeadLetter(message, sender ?? ActorRefs.Nobody, this), sender);
    }

    public override void SendSystemMessage(SystemMessage message)
    {
        if (message is Watch watch)
        {
            // Watching Nobody yields Terminated at once, as for any dead actor.
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(this, ExistenceConfirmed: false, AddressTerminated: false));
        }
    }
}
