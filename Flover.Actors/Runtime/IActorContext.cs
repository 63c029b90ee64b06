namespace Flover.Actors.Runtime;

/// <summary>Creates actors and selections: the actor system and every actor's context.</summary>
public interface IActorRefFactory
{
    /// <summary>Creates an actor from <paramref name="props"/>, named <paramref name="name"/> (generated when null).</summary>
    /// <exception cref="InvalidActorNameException">The name is illegal or taken by a sibling.</exception>
    IActorRef ActorOf(Props props, string? name = null);

    /// <summary>A selection of the actors at <paramref name="actorPath"/> (absolute, or relative to this factory).</summary>
    ActorSelection ActorSelection(string actorPath);

    /// <summary>A selection of the actor at <paramref name="actorPath"/>.</summary>
    ActorSelection ActorSelection(ActorPath actorPath);
}

/// <summary>What an actor knows of its situation, and the operations it performs on itself.</summary>
public interface IActorContext : IActorRefFactory
{
    /// <summary>This actor's reference.</summary>
    IActorRef Self { get; }

    /// <summary>The sender of the message being processed (<see cref="ActorRefs.Nobody"/> when none).</summary>
    IActorRef Sender { get; }

    /// <summary>The parent (supervisor).</summary>
    IActorRef Parent { get; }

    /// <summary>The props this actor was created with.</summary>
    Props Props { get; }

    /// <summary>The system the actor belongs to.</summary>
    ActorSystem System { get; }

    /// <summary>The current children.</summary>
    IEnumerable<IActorRef> Children { get; }

    /// <summary>The receive timeout in force, if any.</summary>
    TimeSpan? ReceiveTimeout { get; }

    /// <summary>The current children (as <see cref="Children"/>).</summary>
    IEnumerable<IActorRef> GetChildren();

    /// <summary>The child named <paramref name="name"/>, or <see cref="ActorRefs.Nobody"/>.</summary>
    IActorRef Child(string name);

    /// <summary>Stops <paramref name="child"/> (or this actor itself) asynchronously.</summary>
    void Stop(IActorRef child);

    /// <summary>Watches <paramref name="subject"/>: exactly one <see cref="Terminated"/> arrives when it stops.</summary>
    IActorRef Watch(IActorRef subject);

    /// <summary>Watches <paramref name="subject"/>, receiving <paramref name="message"/> instead of <see cref="Terminated"/>.</summary>
    IActorRef WatchWith(IActorRef subject, object message);

    /// <summary>Stops watching <paramref name="subject"/>; no <see cref="Terminated"/> for it arrives afterwards.</summary>
    IActorRef Unwatch(IActorRef subject);

    /// <summary>Replaces the current behaviour.</summary>
    void Become(Receive receive);

    /// <summary>Pushes a behaviour on the stack.</summary>
    void BecomeStacked(Receive receive);

    /// <summary>Pops the top behaviour (never the initial one).</summary>
    void UnbecomeStacked();

    /// <summary>Sets (or with null, clears) the receive timeout.</summary>
    void SetReceiveTimeout(TimeSpan? timeout);
}

/// <summary>The context of an <see cref="UntypedActor"/>: adds <see cref="UntypedReceive"/> behaviours.</summary>
public interface IUntypedActorContext : IActorContext
{
    /// <summary>Replaces the current behaviour.</summary>
    void Become(UntypedReceive receive);

    /// <summary>Pushes a behaviour on the stack.</summary>
    void BecomeStacked(UntypedReceive receive);
}
