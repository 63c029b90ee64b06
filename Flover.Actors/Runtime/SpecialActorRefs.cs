using Flover.Actors.Dispatch.SysMsg;

namespace Flover.Actors.Runtime;

/// <summary>
/// Dead letters: publishes every message it gets as <see cref="DeadLetter"/> and logs the first
/// <c>akka.log-dead-letters</c> of them (messages marked <see cref="IDeadLetterSuppression"/> are not logged).
/// </summary>
internal sealed class DeadLetterActorRef(ActorSystemImpl system, ActorPath path) : ActorRefBase
{
    private int _logged;

    public override ActorPath Path { get; } = path;

    public override IInternalActorRef Parent => this;

    public override void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        DeadLetter deadLetter = message as DeadLetter ?? new DeadLetter(message, sender ?? ActorRefs.Nobody, this);
        system.EventStream.Publish(deadLetter);
        if (deadLetter.Message is IDeadLetterSuppression)
        {
            return;
        }

        int count = Interlocked.Increment(ref _logged);
        int limit = system.Settings.LogDeadLetters;
        if (count <= limit)
        {
            system.Log.Info(
                "Message [{0}] from {1} to {2} was not delivered. [{3}] dead letters encountered{4}.",
                deadLetter.Message.GetType().Name,
                deadLetter.Sender.Path,
                deadLetter.Recipient.Path,
                count,
                count == limit ? ", no more dead letters will be logged (akka.log-dead-letters)" : string.Empty);
        }
    }

    public override void SendSystemMessage(SystemMessage message)
    {
        if (message is Watch watch)
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(watch.Watchee, ExistenceConfirmed: false, AddressTerminated: false));
        }
    }
}

/// <summary>The root guardian's parent: stops the root when it fails and ends the system when it dies.</summary>
internal sealed class RootSupervisorRef(ActorSystemImpl system) : ActorRefBase
{
    public override ActorPath Path { get; } = system.RootPath / "bubble-walker";

    public override IInternalActorRef Parent => this;

    public override void Tell(object message, IActorRef? sender) => system.DeadLetters.Tell(message, sender);

    public override void SendSystemMessage(SystemMessage message)
    {
        switch (message)
        {
            case Failed failed:
                failed.Child.SendSystemMessage(new Terminate());
                break;
            case DeathWatchNotification:
                system.FinishTermination();
                break;
        }
    }
}
