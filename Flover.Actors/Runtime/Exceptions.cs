namespace Flover.Actors.Runtime;

/// <summary>Base class of the actor runtime's exceptions, as Akka.NET's <c>AkkaException</c>.</summary>
public class AkkaException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public AkkaException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public AkkaException(string message, Exception? cause)
        : base(message, cause)
    {
    }
}

/// <summary>An actor name that is empty, reserved or contains illegal characters, or that a sibling already has.</summary>
public sealed class InvalidActorNameException(string message) : AkkaException(message);

/// <summary>Thrown by an actor's constructor or <c>PreStart</c>; its supervisor stops it by default.</summary>
public sealed class ActorInitializationException(IActorRef? actor, string message, Exception? cause)
    : AkkaException(message, cause)
{
    /// <summary>The actor that failed to start.</summary>
    public IActorRef? Actor { get; } = actor;
}

/// <summary>Raised inside an actor that processes <see cref="Kill"/>; its supervisor stops it by default.</summary>
public sealed class ActorKilledException(string message) : AkkaException(message);

/// <summary>Raised in an actor that receives a <see cref="Terminated"/> it does not handle.</summary>
public sealed class DeathPactException(IActorRef deadActor)
    : AkkaException($"Monitored actor [{deadActor}] terminated")
{
    /// <summary>The watched actor that terminated.</summary>
    public IActorRef DeadActor { get; } = deadActor;
}

/// <summary>An Ask that got no reply within its timeout.</summary>
public sealed class AskTimeoutException(string message) : AkkaException(message);

/// <summary>A message that cannot be handled in the actor's current state (e.g. a second <c>Stash</c> of one message).</summary>
public sealed class IllegalActorStateException(string message) : AkkaException(message);

/// <summary>An operation called where it is not allowed, such as <c>Context</c> outside an actor.</summary>
public sealed class NotSupportedActorOperationException(string message) : AkkaException(message);
