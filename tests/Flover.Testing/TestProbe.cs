using Flover.Actors.Runtime;

namespace Flover.Testing;

/// <summary>
/// A test actor of its own: pass <see cref="Ref"/> to the actor under test, then make
/// expectations on what the probe received; <see cref="Reply"/> and <see cref="Forward(IActorRef)"/>
/// answer or pass on the last message.
/// </summary>
public sealed class TestProbe : TestKitBase
{
    private static long s_count;

    internal TestProbe(ActorSystem system, string? name)
        : base(system, name ?? "testProbe-" + Interlocked.Increment(ref s_count))
    {
    }

    /// <summary>The probe's reference (<see cref="TestKitBase.TestActor"/>).</summary>
    public IActorRef Ref => TestActor;

    /// <summary>Sends <paramref name="message"/> to <paramref name="actor"/> with the probe as sender.</summary>
    public void Send(IActorRef actor, object message) => actor.Tell(message, Ref);

    /// <summary>Tells <paramref name="message"/> to the probe itself.</summary>
    public void Tell(object message, IActorRef? sender = null) => Ref.Tell(message, sender);

    /// <summary>Replies to the sender of the last message received, with the probe as sender.</summary>
    public void Reply(object message) => LastSender.Tell(message, Ref);

    /// <summary>Sends the last message received to <paramref name="actor"/>, keeping its original sender.</summary>
    public void Forward(IActorRef actor) => actor.Tell(LastMessage ?? throw new InvalidOperationException("No message received to forward."), LastSender);

    /// <summary>Sends <paramref name="message"/> to <paramref name="actor"/> with the last message's sender.</summary>
    public void Forward(IActorRef actor, object message) => actor.Tell(message, LastSender);

    /// <inheritdoc />
    public override string ToString() => $"TestProbe({Ref.Path})";
}
