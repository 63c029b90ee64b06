namespace Flover.Actors.Runtime;

/// <summary>Marks messages the runtime handles itself before the actor's receive sees them.</summary>
public interface IAutoReceivedMessage
{
}

/// <summary>Marks messages that do not reset an actor's receive timeout.</summary>
public interface INotInfluenceReceiveTimeout
{
}

/// <summary>Marks messages that are not logged as dead letters (they are still published).</summary>
public interface IDeadLetterSuppression
{
}

/// <summary>Stops the actor once every message before it has been processed.</summary>
public sealed class PoisonPill : IAutoReceivedMessage, IDeadLetterSuppression
{
    private PoisonPill()
    {
    }

    /// <summary>The single instance.</summary>
    public static PoisonPill Instance { get; } = new();

    /// <inheritdoc />
    public override string ToString() => "<PoisonPill>";
}

/// <summary>Makes the actor throw <see cref="ActorKilledException"/>; its supervisor decides (Stop by default).</summary>
public sealed class Kill : IAutoReceivedMessage
{
    private Kill()
    {
    }

    /// <summary>The single instance.</summary>
    public static Kill Instance { get; } = new();

    /// <inheritdoc />
    public override string ToString() => "<Kill>";
}

/// <summary>
/// Delivered exactly once to every watcher of an actor when it terminates (also when the watch
/// began after its death). An unhandled <see cref="Terminated"/> raises <see cref="DeathPactException"/>.
/// </summary>
/// <param name="ActorRef">The actor that terminated.</param>
/// <param name="ExistenceConfirmed">False when the actor was unknown or already gone when watched.</param>
/// <param name="AddressTerminated">True when its whole node was lost (remoting).</param>
public sealed record Terminated(IActorRef ActorRef, bool ExistenceConfirmed, bool AddressTerminated)
    : IAutoReceivedMessage, IDeadLetterSuppression;

/// <summary>Sent to an actor when no message arrived within its receive timeout.</summary>
public sealed class ReceiveTimeout : IAutoReceivedMessage, INotInfluenceReceiveTimeout
{
    private ReceiveTimeout()
    {
    }

    /// <summary>The single instance.</summary>
    public static ReceiveTimeout Instance { get; } = new();
}

/// <summary>Asks any actor for its reference; it answers <see cref="ActorIdentity"/> without its receive seeing it.</summary>
public sealed record Identify(object? MessageId) : IAutoReceivedMessage, INotInfluenceReceiveTimeout;

/// <summary>The answer to <see cref="Identify"/>; <see cref="Subject"/> is null when no actor was found.</summary>
public sealed record ActorIdentity(object? MessageId, IActorRef? Subject);

/// <summary>Replies that complete or fail an Ask, as Akka.NET's <c>Status</c>.</summary>
public abstract class Status
{
    private Status()
    {
    }

    /// <summary>A successful outcome carrying <see cref="State"/>.</summary>
    public sealed class Success(object? state) : Status
    {
        /// <summary>The value.</summary>
        public object? State { get; } = state;
    }

    /// <summary>A failed outcome: an Ask receiving it fails with <see cref="Cause"/>.</summary>
    public sealed class Failure(Exception cause, object? state = null) : Status
    {
        /// <summary>The error.</summary>
        public Exception Cause { get; } = cause;

        /// <summary>Optional extra state.</summary>
        public object? State { get; } = state;

        /// <inheritdoc />
        public override string ToString() => $"Failure: {Cause}";
    }
}

/// <summary>A message that could not be delivered, published on the event stream.</summary>
/// <param name="Message">The undelivered message.</param>
/// <param name="Sender">Its sender (Nobody when none).</param>
/// <param name="Recipient">The reference it was sent to.</param>
public sealed record DeadLetter(object Message, IActorRef Sender, IActorRef Recipient);

/// <summary>A message an actor did not handle, published on the event stream.</summary>
public sealed record UnhandledMessage(object Message, IActorRef Sender, IActorRef Recipient);
