using Flover.Actors.Dispatch;

namespace Flover.Actors.Runtime;

/// <summary>An actor with a stash; the runtime sets <see cref="Stash"/> before <c>PreStart</c>.</summary>
public interface IActorStash
{
    /// <summary>The actor's stash.</summary>
    IStash Stash { get; set; }
}

/// <summary>Marks an actor that stashes messages (Akka.NET's <c>IWithStash</c>).</summary>
public interface IWithStash : IActorStash
{
}

/// <summary>Marks an actor with an unbounded stash (Akka.NET's <c>IWithUnboundedStash</c>).</summary>
public interface IWithUnboundedStash : IWithStash
{
}

/// <summary>
/// Sets messages aside to process later: <see cref="Stash"/> keeps the current message;
/// <see cref="UnstashAll"/> puts every kept message back at the head of the mailbox, in order.
/// Stashed messages survive a restart (they are unstashed first) and go to dead letters on stop.
/// </summary>
public interface IStash
{
    /// <summary>Keeps the message being processed.</summary>
    /// <exception cref="IllegalActorStateException">The same message was already stashed.</exception>
    void Stash();

    /// <summary>Puts the oldest kept message back at the head of the mailbox.</summary>
    void Unstash();

    /// <summary>Puts every kept message back at the head of the mailbox, oldest first.</summary>
    void UnstashAll();

    /// <summary>Drops every kept message and returns them.</summary>
    IEnumerable<object> ClearStash();
}

/// <summary>The stash of one actor cell; used only on the actor's own thread.</summary>
internal sealed class UnboundedStash(ActorCell cell) : IStash
{
    private readonly LinkedList<Envelope> _stashed = new();
    private object? _lastStashed;

    public void Stash()
    {
        object message = cell.CurrentMessage ?? throw new IllegalActorStateException("Stash() is only valid while processing a message.");
        if (ReferenceEquals(message, _lastStashed))
        {
            throw new IllegalActorStateException($"Can't stash the same message {message} more than once.");
        }

        _lastStashed = message;
        _stashed.AddLast(new Envelope(message, cell.Sender));
    }

    public void Unstash()
    {
        if (_stashed.First is { } first)
        {
            _stashed.RemoveFirst();
            cell.Mailbox.Prepend([first.Value]);
        }
    }

    public void UnstashAll()
    {
        if (_stashed.Count > 0)
        {
            cell.Mailbox.Prepend([.. _stashed]);
            _stashed.Clear();
        }

        _lastStashed = null;
    }

    public IEnumerable<object> ClearStash()
    {
        object[] messages = [.. _stashed.Select(e => e.Message)];
        _stashed.Clear();
        _lastStashed = null;
        return messages;
    }
}
