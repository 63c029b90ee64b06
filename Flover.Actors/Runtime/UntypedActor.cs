namespace Flover.Actors.Runtime;

/// <summary>A behaviour of an <see cref="UntypedActor"/>: it handles every message (call <c>Unhandled</c> otherwise).</summary>
public delegate void UntypedReceive(object message);

/// <summary>An actor with one <see cref="OnReceive"/> method; call <c>Unhandled(message)</c> for messages it does not handle.</summary>
public abstract class UntypedActor : ActorBase
{
    /// <summary>Handles one message.</summary>
    protected abstract void OnReceive(object message);

    /// <summary>The context, with the untyped <c>Become</c> overloads.</summary>
    protected static new IUntypedActorContext Context => ActorBase.Context;

    /// <inheritdoc />
    protected internal sealed override bool Receive(object message)
    {
        OnReceive(message);
        return true;
    }

    /// <summary>Replaces the current behaviour with <paramref name="receive"/>.</summary>
    protected void Become(UntypedReceive receive) => Context.Become(receive);

    /// <summary>Pushes <paramref name="receive"/> on the behaviour stack.</summary>
    protected void BecomeStacked(UntypedReceive receive) => Context.BecomeStacked(receive);
}
