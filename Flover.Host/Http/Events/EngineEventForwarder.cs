using Akka.Actor;
using Flover.Actors.Inference;

namespace Flover.Host.Http.Events;

/// <summary>
/// Subscribes to the actor system's EventStream for <see cref="IterationSummary"/> and hands each
/// to the <see cref="EngineEventHub"/>, whose publishing never blocks, so this actor's mailbox
/// never grows behind a slow viewer.
/// </summary>
internal sealed class EngineEventForwarder : ReceiveActor
{
    public EngineEventForwarder(EngineEventHub hub)
    {
        Receive<IterationSummary>(hub.Publish);
    }

    public static Props Props(EngineEventHub hub) => Akka.Actor.Props.Create(() => new EngineEventForwarder(hub));

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(IterationSummary));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
