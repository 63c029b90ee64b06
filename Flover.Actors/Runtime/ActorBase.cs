namespace Flover.Actors.Runtime;

/// <summary>A behaviour: handles <paramref name="message"/> and returns false when it did not.</summary>
public delegate bool Receive(object message);

/// <summary>
/// The base of every actor. An actor owns its state and processes one message at a time; it is
/// created only by the runtime (<c>ActorOf</c> with <see cref="Props"/>), never with <c>new</c>.
/// </summary>
public abstract class ActorBase
{
    private readonly ActorCell _cell;

    /// <summary>Binds the new instance to the cell that is creating it.</summary>
    /// <exception cref="ActorInitializationException">Created with <c>new</c> outside <c>ActorOf</c>.</exception>
    protected ActorBase()
    {
        _cell = ActorCell.Current
            ?? throw new ActorInitializationException(null, $"Do not create actors with 'new' ({GetType().Name}): use ActorOf with Props.", null);
    }

    /// <summary>The context of the actor whose message is being processed on this thread.</summary>
    /// <exception cref="NotSupportedActorOperationException">Called outside an actor.</exception>
    protected static IUntypedActorContext Context =>
        ActorCell.Current ?? throw new NotSupportedActorOperationException("There is no active actor context on this thread: Context is available only while an actor processes a message.");

    /// <summary>This actor's own reference.</summary>
    protected IActorRef Self => _cell.Self;

    /// <summary>The sender of the message being processed (<see cref="ActorRefs.Nobody"/> when none).</summary>
    protected IActorRef Sender => _cell.Sender;

    /// <summary>The actor's initial behaviour.</summary>
    protected internal abstract bool Receive(object message);

    /// <summary>Called on the actor's dispatcher before the first message.</summary>
    protected virtual void PreStart()
    {
    }

    /// <summary>Called after the actor and all its children have stopped.</summary>
    protected virtual void PostStop()
    {
    }

    /// <summary>Called on the failed instance before a restart: by default stops every child and calls <see cref="PostStop"/>.</summary>
    protected virtual void PreRestart(Exception reason, object? message)
    {
        foreach (IActorRef child in Context.GetChildren())
        {
            Context.Unwatch(child);
            Context.Stop(child);
        }

        PostStop();
    }

    /// <summary>Called on the fresh instance after a restart: by default calls <see cref="PreStart"/>.</summary>
    protected virtual void PostRestart(Exception reason) => PreStart();

    /// <summary>
    /// The strategy supervising this actor's children (unless its <see cref="Props"/> set one):
    /// <see cref="Runtime.SupervisorStrategy.DefaultStrategy"/> by default.
    /// </summary>
    protected virtual SupervisorStrategy SupervisorStrategy() => Runtime.SupervisorStrategy.DefaultStrategy;

    /// <summary>
    /// Called for a message no behaviour handled: an unhandled <see cref="Terminated"/> raises
    /// <see cref="DeathPactException"/>; anything else is published as <see cref="UnhandledMessage"/>.
    /// </summary>
    protected virtual void Unhandled(object message)
    {
        if (message is Terminated terminated)
        {
            throw new DeathPactException(terminated.ActorRef);
        }

        _cell.PublishUnhandled(message);
    }

    /// <summary>Replaces the current behaviour with <paramref name="receive"/>.</summary>
    protected void Become(Receive receive) => _cell.Become(receive);

    /// <summary>Pushes <paramref name="receive"/> on the behaviour stack.</summary>
    protected void BecomeStacked(Receive receive) => _cell.BecomeStacked(receive);

    /// <summary>Pops the top behaviour (never the initial one).</summary>
    protected void UnbecomeStacked() => _cell.UnbecomeStacked();

    /// <summary>Sets (or with null, clears) the receive timeout.</summary>
    protected void SetReceiveTimeout(TimeSpan? timeout) => _cell.SetReceiveTimeout(timeout);

    /// <summary>Runs <paramref name="receive"/> on <paramref name="message"/>; override to wrap every receive.</summary>
    protected internal virtual bool AroundReceive(Receive receive, object message) => receive(message);

    internal SupervisorStrategy SupervisorStrategyInternal => SupervisorStrategy();

    internal void AroundPreStart() => PreStart();

    internal void AroundPostStop() => PostStop();

    internal void AroundPreRestart(Exception reason, object? message) => PreRestart(reason, message);

    internal void AroundPostRestart(Exception reason) => PostRestart(reason);

    internal void InvokeUnhandled(object message) => Unhandled(message);
}
