using System.Runtime.ExceptionServices;

namespace Flover.Gpu.Accelerators;

/// <summary>One parallel kernel launch: independent chunks that any worker may run, in any order.</summary>
internal interface IWorkerJob
{
    /// <summary>Number of chunks of this launch (read once when the launch starts).</summary>
    int ChunkCount { get; }

    /// <summary>Runs chunk <paramref name="chunk"/> on worker <paramref name="worker"/> (for per-worker scratch).</summary>
    void Execute(int chunk, int worker);
}

/// <summary>
/// A fixed set of kernel threads. The thread calling <see cref="Run"/> is worker 0, so a pool of one
/// is plain sequential code and a pool of n starts only n − 1 threads. A launch is a set of chunks that
/// workers claim one at a time from a shared counter, so a worker the OS has descheduled (other
/// processes, the actor system's threads) delays a launch by at most one chunk instead of by its
/// whole static share; the caller never waits for a worker to wake, only for claimed chunks to finish.
/// Waiting workers spin briefly, then block (<see cref="ManualResetEventSlim"/>).
/// </summary>
/// <remarks>
/// Which worker runs a chunk never changes a result: every kernel computes each output element
/// entirely inside one chunk, in a fixed order.
/// </remarks>
internal sealed class WorkerPool : IDisposable
{
    // Spin iterations before a waiting thread blocks: a decode step launches kernels every few
    // microseconds, so a short spin catches the next launch; longer gaps put the thread to sleep.
    private const int SpinCount = 200;

    // Low 32 bits of _state when a launch is being set up: no chunk can be claimed.
    private const uint Closed = uint.MaxValue;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false, SpinCount);
    private readonly Lock _runLock = new();

    // (epoch << 32) | next unclaimed chunk. A claim is a compare-and-swap on this word, so it succeeds
    // only while the epoch it read is still current: a worker holding a stale job can never claim.
    // The epoch wraps after 2^32 launches (days of decoding); a claim would need a worker stalled
    // between its read and its CAS for exactly that many launches to be confused.
    private long _state;
    private long _epoch;
    private IWorkerJob? _job;
    private int _count;
    private int _completed;
    private Exception? _failure;
    private volatile bool _disposed;

    public WorkerPool(int workerCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workerCount);
        WorkerCount = workerCount;
        _state = Closed;
        _start = new ManualResetEventSlim[workerCount];
        _threads = new Thread[workerCount];
        for (int i = 1; i < workerCount; i++)
        {
            _start[i] = new ManualResetEventSlim(false, SpinCount);
            int index = i;
            _threads[i] = new Thread(() => WorkerLoop(index))
            {
                IsBackground = true,
                Name = $"flover-kernel-{i}",
            };
            _threads[i].Start();
        }
    }

    /// <summary>Workers, the calling thread included.</summary>
    public int WorkerCount { get; }

    /// <summary>A chunk count giving each worker about <paramref name="perWorker"/> chunks of <paramref name="items"/> items.</summary>
    public int ChunkSize(int items, int perWorker = 4) => Math.Max(1, items / (WorkerCount * perWorker));

    /// <summary>Runs every chunk of <paramref name="job"/> and returns when all are done; rethrows the first failure.</summary>
    public void Run(IWorkerJob job)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int count = job.ChunkCount;
        if (WorkerCount == 1 || count <= 1)
        {
            for (int chunk = 0; chunk < count; chunk++)
            {
                job.Execute(chunk, 0);
            }

            return;
        }

        // One launch at a time: the state word, job and counters are shared by every worker.
        lock (_runLock)
        {
            long epoch = ++_epoch;
            // Close first, then publish the job, then open: a worker that read the old state fails its
            // claim, and one that reads the open state also reads this job (volatile release order).
            Volatile.Write(ref _state, (epoch << 32) | Closed);
            Volatile.Write(ref _job, job);
            Volatile.Write(ref _count, count);
            Volatile.Write(ref _completed, 0);
            _failure = null;
            Volatile.Write(ref _state, epoch << 32);
            int helpers = Math.Min(WorkerCount - 1, count - 1);
            for (int i = 1; i <= helpers; i++)
            {
                _start[i].Set();
            }

            Work(0);
            _done.Wait();
            _done.Reset();
            Volatile.Write(ref _job, null);
            if (_failure is not null)
            {
                ExceptionDispatchInfo.Throw(_failure);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (int i = 1; i < WorkerCount; i++)
        {
            _start[i].Set();
        }

        for (int i = 1; i < WorkerCount; i++)
        {
            _threads[i].Join();
            _start[i].Dispose();
        }

        _done.Dispose();
    }

    /// <summary>Claims and runs chunks of the current launch until none is left.</summary>
    private void Work(int worker)
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            uint next = (uint)state;
            if (next == Closed)
            {
                return;
            }

            IWorkerJob? job = Volatile.Read(ref _job);
            int count = Volatile.Read(ref _count);
            if (job is null || next >= (uint)count)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _state, state + 1, state) != state)
            {
                continue;
            }

            // The claim succeeded, so the state was unchanged since it was read: job and count belong to it.
            try
            {
                job.Execute((int)next, worker);
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _failure, exception, null);
            }

            if (Interlocked.Increment(ref _completed) == count)
            {
                _done.Set();
            }
        }
    }

    private void WorkerLoop(int index)
    {
        while (true)
        {
            _start[index].Wait();
            // Reset before looking for work: a signal that arrives meanwhile is covered by the look.
            _start[index].Reset();
            if (_disposed)
            {
                return;
            }

            Work(index);
        }
    }
}
