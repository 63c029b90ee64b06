namespace Flover.Actors.Dispatch;

/// <summary>Runs mailboxes on threads. Internal API; configured by id (see <see cref="Dispatchers"/>).</summary>
internal abstract class MessageDispatcher(string id, int throughput)
{
    /// <summary>The configuration id.</summary>
    public string Id { get; } = id;

    /// <summary>User messages an actor processes per run before yielding its thread.</summary>
    public int Throughput { get; } = throughput;

    /// <summary>Arranges for <paramref name="mailbox"/>.Run() to be called (exactly once per call).</summary>
    public abstract void Execute(Mailbox mailbox);

    /// <summary>Called when an actor starts using this dispatcher.</summary>
    public virtual void Attach(Mailbox mailbox)
    {
    }

    /// <summary>Called after the actor has terminated.</summary>
    public virtual void Detach(Mailbox mailbox)
    {
    }
}

/// <summary>The default: mailboxes run as work items on the .NET thread pool.</summary>
internal sealed class ThreadPoolDispatcher(string id, int throughput) : MessageDispatcher(id, throughput)
{
    public override void Execute(Mailbox mailbox) => ThreadPool.UnsafeQueueUserWorkItem(mailbox, preferLocal: false);
}

/// <summary>
/// Runs a mailbox on the thread that posted to it, at once. For tests: the actor has processed
/// a message by the time <c>Tell</c> returns (unless it was already running higher up the stack).
/// </summary>
internal sealed class CallingThreadDispatcher(string id, int throughput) : MessageDispatcher(id, throughput)
{
    public override void Execute(Mailbox mailbox) => mailbox.Run();
}

/// <summary>
/// One dedicated thread per actor: the decode loop holds its thread (and, on a GPU, the device
/// context bound to it) for its whole life. The thread blocks on a semaphore between runs, so
/// an idle actor costs no CPU.
/// </summary>
internal sealed class PinnedDispatcher(string id) : MessageDispatcher(id, int.MaxValue)
{
    public override void Attach(Mailbox mailbox) => mailbox.DispatcherState = new PinnedThread(mailbox, Id);

    public override void Execute(Mailbox mailbox) => ((PinnedThread)mailbox.DispatcherState!).Signal();

    public override void Detach(Mailbox mailbox) => ((PinnedThread?)mailbox.DispatcherState)?.Stop();

    private sealed class PinnedThread
    {
        private readonly SemaphoreSlim _signal = new(0);
        private readonly Mailbox _mailbox;
        private volatile bool _stopped;

        public PinnedThread(Mailbox mailbox, string id)
        {
            _mailbox = mailbox;
            var thread = new Thread(Loop) { IsBackground = true, Name = id };
            thread.Start();
        }

        public void Signal() => _signal.Release();

        public void Stop()
        {
            _stopped = true;
            _signal.Release();
        }

        private void Loop()
        {
            while (true)
            {
                _signal.Wait();
                if (_stopped && _mailbox.IsClosed)
                {
                    return;
                }

                _mailbox.Run();
            }
        }
    }
}
