using System.Collections.Concurrent;

namespace Flover.Actors.Dispatch;

/// <summary>A mailbox's queue of user messages: many producers, one consumer (the actor).</summary>
internal interface IMessageQueue
{
    /// <summary>True when a message may be waiting.</summary>
    bool HasMessages { get; }

    /// <summary>Number of queued messages (approximate under concurrency).</summary>
    int Count { get; }

    /// <summary>Queues <paramref name="envelope"/>; false when the queue refused it (bounded and full).</summary>
    bool TryEnqueue(Envelope envelope, out Envelope? dropped);

    /// <summary>Takes the oldest message.</summary>
    bool TryDequeue(out Envelope envelope);
}

/// <summary>The default queue: unbounded, lock-free.</summary>
internal sealed class UnboundedMessageQueue : IMessageQueue
{
    private readonly ConcurrentQueue<Envelope> _queue = new();

    public bool HasMessages => !_queue.IsEmpty;

    public int Count => _queue.Count;

    public bool TryEnqueue(Envelope envelope, out Envelope? dropped)
    {
        _queue.Enqueue(envelope);
        dropped = null;
        return true;
    }

    public bool TryDequeue(out Envelope envelope) => _queue.TryDequeue(out envelope);
}

/// <summary>What a bounded mailbox does with a message that arrives when it is full.</summary>
public enum MailboxOverflowStrategy
{
    /// <summary>The arriving message goes to dead letters.</summary>
    DropNew,

    /// <summary>The oldest queued message goes to dead letters and the arriving one is queued.</summary>
    DropHead,
}

/// <summary>
/// A queue holding at most <c>capacity</c> messages. Senders never block (an actor system must
/// not stall a sender thread); overflow goes to dead letters according to the strategy.
/// </summary>
internal sealed class BoundedMessageQueue(int capacity, MailboxOverflowStrategy strategy) : IMessageQueue
{
    private readonly ConcurrentQueue<Envelope> _queue = new();
    private int _count;

    public bool HasMessages => Volatile.Read(ref _count) > 0;

    public int Count => Volatile.Read(ref _count);

    public bool TryEnqueue(Envelope envelope, out Envelope? dropped)
    {
        dropped = null;
        // Reserve a place first so concurrent senders can never overfill the queue.
        if (Interlocked.Increment(ref _count) <= capacity)
        {
            _queue.Enqueue(envelope);
            return true;
        }

        if (strategy == MailboxOverflowStrategy.DropHead && _queue.TryDequeue(out Envelope oldest))
        {
            // The place the oldest message held is handed to the new one; the count stays as it was.
            Interlocked.Decrement(ref _count);
            _queue.Enqueue(envelope);
            dropped = oldest;
            return true;
        }

        Interlocked.Decrement(ref _count);
        return false;
    }

    public bool TryDequeue(out Envelope envelope)
    {
        if (_queue.TryDequeue(out envelope))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }
}
