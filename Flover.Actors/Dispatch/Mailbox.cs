using System.Collections.Concurrent;
using Flover.Actors.Dispatch.SysMsg;
using Flover.Actors.Runtime;

namespace Flover.Actors.Dispatch;

/// <summary>
/// An actor's mailbox: a system-message queue that always goes first and a user-message queue,
/// run by the actor's dispatcher one batch at a time. Internal API.
/// </summary>
/// <remarks>
/// Concurrency protocol (after Akka.NET's Mailbox): any thread may post; a post schedules the
/// mailbox only if it wins the <see cref="_scheduled"/> flag (0 → 1), so at most one thread runs
/// the actor at any moment. <see cref="Run"/> clears the flag when done and then re-checks the
/// queues, because a post that arrived while the flag was still set did not schedule. Suspension
/// and termination flags are written only on the running thread and read by posters merely to
/// avoid useless schedules; a stale read is repaired by that final re-check.
/// </remarks>
internal sealed class Mailbox : IThreadPoolWorkItem
{
    private readonly ConcurrentQueue<SystemMessage> _system = new();
    private readonly IMessageQueue _queue;
    private ActorCell _cell = null!;
    private MessageDispatcher _dispatcher = null!;
    // Unstashed messages go ahead of the queue; only the running thread touches the list, the
    // count is volatile so posters' HasWork sees it.
    private readonly LinkedList<Envelope> _front = new();
    private volatile int _frontCount;
    private int _scheduled;
    private volatile bool _closed;

    public Mailbox(IMessageQueue queue)
    {
        _queue = queue;
    }

    /// <summary>Dispatcher-private state (the dedicated thread of a pinned dispatcher).</summary>
    public object? DispatcherState { get; set; }

    /// <summary>True once the actor has terminated: posts are routed to dead letters.</summary>
    public bool IsClosed => _closed;

    /// <summary>Queued user messages (approximate).</summary>
    public int UserMessageCount => _queue.Count;

    public void Attach(ActorCell cell, MessageDispatcher dispatcher)
    {
        _cell = cell;
        _dispatcher = dispatcher;
    }

    /// <summary>Queues a user message (dead letters once closed or when a bounded queue overflows).</summary>
    public void Post(Envelope envelope)
    {
        if (_closed)
        {
            _cell.SendToDeadLetters(envelope);
            return;
        }

        if (!_queue.TryEnqueue(envelope, out Envelope? dropped))
        {
            _cell.SendToDeadLetters(envelope);
            return;
        }

        if (dropped is { } oldest)
        {
            _cell.SendToDeadLetters(oldest);
        }

        if (_closed)
        {
            // Closed between the check and the enqueue: whoever dequeues first sends it on.
            DrainUserMessagesToDeadLetters();
            return;
        }

        TrySchedule();
    }

    /// <summary>Queues a system message; after close the cell answers it as a dead actor would.</summary>
    public void PostSystem(SystemMessage message)
    {
        _system.Enqueue(message);
        if (_closed)
        {
            DrainSystemMessagesAfterClose();
            return;
        }

        TrySchedule();
    }

    /// <summary>Closes the mailbox (on the running thread, as the actor terminates).</summary>
    public void Close()
    {
        _closed = true;
        DrainUserMessagesToDeadLetters();
        DrainSystemMessagesAfterClose();
    }

    /// <summary>Schedules the mailbox when it has work and nobody runs it.</summary>
    public void TrySchedule()
    {
        if (HasWork() && Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            _dispatcher.Execute(this);
        }
    }

    /// <summary>Processes system messages, then up to the dispatcher's throughput of user messages.</summary>
    public void Run()
    {
        try
        {
            ProcessSystemMessages();
            int left = _dispatcher.Throughput;
            while (left-- > 0 && !_closed && _cell.CanProcessUserMessages && TryTakeNext(out Envelope envelope))
            {
                _cell.Invoke(envelope);
                ProcessSystemMessages();
            }
        }
        catch (Exception exception)
        {
            // Actor failures are handled inside the cell; anything reaching here is a runtime bug.
            // Never let it escape into the thread pool (that would end the process).
            _cell.ReportRuntimeError(exception);
        }
        finally
        {
            // A full fence, not a release store: the re-check below must not read the queues
            // before the flag is cleared, or a post racing with us sees the flag still set, does
            // not schedule, and its message waits for ever (store-load reordering on x86).
            Interlocked.Exchange(ref _scheduled, 0);
            if (!_closed)
            {
                TrySchedule();
            }
        }
    }

    void IThreadPoolWorkItem.Execute() => Run();

    /// <summary>Puts messages back at the head of the queue, in order (unstash; running thread only).</summary>
    public void Prepend(IReadOnlyList<Envelope> envelopes)
    {
        for (int i = envelopes.Count - 1; i >= 0; i--)
        {
            _front.AddFirst(envelopes[i]);
        }

        _frontCount = _front.Count;
    }

    private bool TryTakeNext(out Envelope envelope)
    {
        if (_frontCount > 0)
        {
            envelope = _front.First!.Value;
            _front.RemoveFirst();
            _frontCount = _front.Count;
            return true;
        }

        return _queue.TryDequeue(out envelope);
    }

    private bool HasWork() => !_closed && (!_system.IsEmpty || (_cell.CanProcessUserMessages && (_frontCount > 0 || _queue.HasMessages)));

    private void ProcessSystemMessages()
    {
        while (!_closed && _system.TryDequeue(out SystemMessage? message))
        {
            _cell.SystemInvoke(message);
        }
    }

    private void DrainUserMessagesToDeadLetters()
    {
        if (_frontCount > 0 && _cell.IsTerminated)
        {
            // Only the closing (running) thread sees a terminated cell with a front list.
            foreach (Envelope stashed in _front)
            {
                _cell.SendToDeadLetters(stashed);
            }

            _front.Clear();
            _frontCount = 0;
        }

        while (_queue.TryDequeue(out Envelope envelope))
        {
            _cell.SendToDeadLetters(envelope);
        }
    }

    private void DrainSystemMessagesAfterClose()
    {
        while (_system.TryDequeue(out SystemMessage? message))
        {
            _cell.HandleSystemMessageWhenDead(message);
        }
    }
}
