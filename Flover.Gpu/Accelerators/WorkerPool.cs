using System.Runtime.ExceptionServices;

namespace Flover.Gpu.Accelerators;

/// <summary>One parallel kernel launch: each worker runs <see cref="Execute"/> with its own index.</summary>
internal interface IWorkerJob
{
    /// <summary>Does worker <paramref name="worker"/>'s share of the work (0 ≤ worker &lt; workerCount).</summary>
    void Execute(int worker, int workerCount);
}

/// <summary>
/// A fixed set of kernel threads. The thread calling <see cref="Run"/> is worker 0, so a pool of one
/// is plain sequential code and a pool of n starts only n − 1 threads. Workers wait for a launch by
/// spinning briefly and then blocking (<see cref="ManualResetEventSlim"/>), which keeps the latency of
/// back-to-back kernels low without burning a core while the engine is idle.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    // Spin iterations before a waiting worker blocks: a decode step launches kernels every few
    // microseconds, so a short spin catches the next launch; longer gaps put the worker to sleep.
    private const int SpinCount = 200;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false, SpinCount);
    private readonly Lock _runLock = new();
    private IWorkerJob? _job;
    private Exception? _failure;
    private int _pending;
    private volatile bool _disposed;

    public WorkerPool(int workerCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workerCount);
        WorkerCount = workerCount;
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

    /// <summary>Runs <paramref name="job"/> on every worker and returns when all are done; rethrows the first failure.</summary>
    public void Run(IWorkerJob job)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (WorkerCount == 1)
        {
            job.Execute(0, 1);
            return;
        }

        // One launch at a time: the job fields and the done event are shared by every worker.
        lock (_runLock)
        {
            _job = job;
            _failure = null;
            Volatile.Write(ref _pending, WorkerCount - 1);
            // Set() is a full fence, so each worker sees _job and _pending written above.
            for (int i = 1; i < WorkerCount; i++)
            {
                _start[i].Set();
            }

            try
            {
                job.Execute(0, WorkerCount);
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _failure, exception, null);
            }

            // Wait for the other workers even when worker 0 failed: they still read the job's buffers.
            _done.Wait();
            _done.Reset();
            _job = null;
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

    private void WorkerLoop(int index)
    {
        while (true)
        {
            _start[index].Wait();
            // Reset before working: the next Set() can only come after this launch's _done, which
            // needs this worker's decrement below, so no launch signal is ever lost.
            _start[index].Reset();
            if (_disposed)
            {
                return;
            }

            try
            {
                _job!.Execute(index, WorkerCount);
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _failure, exception, null);
            }

            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _done.Set();
            }
        }
    }
}
