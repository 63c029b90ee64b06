using Flover.Actors.Runtime;

namespace Flover.Actors.Dispatch.SysMsg;

/// <summary>
/// Messages between the runtime's actor cells: processed before any user message, never seen by
/// an actor's receive. Internal API (Akka.NET keeps these in <c>Akka.Dispatch.SysMsg</c>).
/// </summary>
internal abstract record SystemMessage;

/// <summary>Create the actor instance (the first message of every cell).</summary>
internal sealed record Create : SystemMessage;

/// <summary>Stop the actor: children first, then PostStop, then watchers and parent are told.</summary>
internal sealed record Terminate : SystemMessage;

/// <summary><paramref name="Watcher"/> starts watching <paramref name="Watchee"/>.</summary>
internal sealed record Watch(IInternalActorRef Watchee, IInternalActorRef Watcher) : SystemMessage;

/// <summary><paramref name="Watcher"/> stops watching <paramref name="Watchee"/>.</summary>
internal sealed record Unwatch(IInternalActorRef Watchee, IInternalActorRef Watcher) : SystemMessage;

/// <summary>Tells a watcher (or the parent) that <paramref name="Actor"/> has terminated.</summary>
internal sealed record DeathWatchNotification(IActorRef Actor, bool ExistenceConfirmed, bool AddressTerminated) : SystemMessage;

/// <summary>Tells the parent that child <paramref name="Child"/> failed; the child is suspended until the parent decides.</summary>
internal sealed record Failed(IInternalActorRef Child, Exception Cause, long Uid) : SystemMessage;

/// <summary>Restart the actor after <paramref name="Cause"/> (the supervisor decided Restart).</summary>
internal sealed record Recreate(Exception Cause) : SystemMessage;

/// <summary>Resume processing after a failure (the supervisor decided Resume).</summary>
internal sealed record Resume(Exception? CausedByFailure) : SystemMessage;

/// <summary>Runs an <c>await</c> continuation of a <c>ReceiveAsync</c> handler inside the actor.</summary>
internal sealed record ExecuteContinuation(SendOrPostCallback Callback, object? State, IActorRef? Sender) : SystemMessage;

/// <summary>The task of a <c>ReceiveAsync</c> handler finished: resume the mailbox (or fail).</summary>
internal sealed record AsyncReceiveCompleted(Task Task, object Message) : SystemMessage;
