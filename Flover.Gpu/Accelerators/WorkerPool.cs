using System.Diagnostics;
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
/// processes, the actor system's threads) delays a launch by at most the chunk it holds instead of by
/// its whole static share: whatever it has not claimed, the running workers do. The caller never waits
/// for a helper to wake, only for chunks already claimed to finish.
/// </summary>
/// <remarks>
/// <para>
/// Waiting: a decode step is a run of launches a few to a few hundred microseconds apart, so a helper
/// that finishes a launch watches for the next one for <see cref="HelperSpinMicroseconds"/> (pause
/// instructions, no yields) and only then parks on an event; the caller waits for the last claimed
/// chunks the same way for <see cref="CallerSpinMicroseconds"/>. The spins are bounded in time, so on a
/// loaded machine a waiting thread gives its core back within tens of microseconds instead of holding
/// it against the thread it waits for; parking and waking are a Dekker handshake (each side publishes
/// with a full fence, then reads the other's flag), so no wake-up is lost.
/// </para>
/// <para>
/// Which worker runs a chunk never changes a result: every kernel computes each output element
/// entirely inside one chunk, in a fixed order.
/// </para>
/// </remarks>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>How long a helper watches for the next launch before parking: longer than the gaps inside a step, shorter than a time slice.</summary>
    internal const int HelperSpinMicroseconds = 100;

    /// <summary>How long the caller watches for claimed chunks to finish before parking: a few chunks' time.</summary>
    internal const int CallerSpinMicroseconds = 50;

    // Low 32 bits of _state when a launch is being set up: no chunk can be claimed.
    private const uint Closed = uint.MaxValue;

    private readonly long _helperSpinTicks;
    private readonly long _callerSpinTicks;
    private readonly Thread[] _threads;
    private readonly Helper[] _helpers;
    private readonly ManualResetEventSlim _done = new(false, 0);
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
    private int _callerParked;
    private Exception? _failure;
    private volatile bool _disposed;

    // Counters for CpuKernelProfile (plain increments by their owning thread; read after the runs).
    private long _launches;
    private long _inlineRuns;
    private long _waitTicks;
    private long _callerParks;

    /// <param name="workerCount">Workers, the calling thread included.</param>
    /// <param name="helperSpinMicroseconds">How long an idle helper watches for the next launch before parking.</param>
    /// <param name="callerSpinMicroseconds">How long the caller watches for claimed chunks to finish before parking.</param>
    public WorkerPool(int workerCount, int helperSpinMicroseconds = HelperSpinMicroseconds, int callerSpinMicroseconds = CallerSpinMicroseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workerCount);
        ArgumentOutOfRangeException.ThrowIfNegative(helperSpinMicroseconds);
        ArgumentOutOfRangeException.ThrowIfNegative(callerSpinMicroseconds);
        WorkerCount = workerCount;
        _helperSpinTicks = Stopwatch.Frequency * helperSpinMicroseconds / 1_000_000;
        _callerSpinTicks = Stopwatch.Frequency * callerSpinMicroseconds / 1_000_000;
        _state = Closed;
        _helpers = new Helper[workerCount];
        _threads = new Thread[workerCount];
        _helpers[0] = new Helper();
        for (int i = 1; i < workerCount; i++)
        {
            _helpers[i] = new Helper();
            int index = i;
            _threads[i] = new Thread(() => HelperLoop(index))
            {
                IsBackground = true,
                Name = $"flover-kernel-{i}",
            };
            _threads[i].Start();
        }
    }

    /// <summary>Workers, the calling thread included.</summary>
    public int WorkerCount { get; }

    /// <summary>
    /// Test hook: runs on a helper (worker ≥ 1) right after it has seen a new launch and before it claims
    /// anything, so a test can hold a helper "descheduled" at the worst moment with a barrier.
    /// </summary>
    internal Action<int>? BeforeHelperClaims { get; set; }

    /// <summary>A chunk count giving each worker about <paramref name="perWorker"/> chunks of <paramref name="items"/> items.</summary>
    public int ChunkSize(int items, int perWorker = 4) => Math.Max(1, items / (WorkerCount * perWorker));

    /// <summary>Runs every chunk of <paramref name="job"/> and returns when all are done; rethrows the first failure.</summary>
    public void Run(IWorkerJob job)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int count = job.ChunkCount;
        if (WorkerCount == 1 || count <= 1)
        {
            _inlineRuns++;
            for (int chunk = 0; chunk < count; chunk++)
            {
                job.Execute(chunk, 0);
            }

            return;
        }

        // One launch at a time: the state word, job and counters are shared by every worker.
        lock (_runLock)
        {
            _launches++;
            long epoch = ++_epoch;
            // Close first, then publish the job, then open: a worker that read the old state fails its
            // claim, and one that reads the open state also reads this job (release order). The opening
            // write is a full fence, so the parked flags read below are not read before it (Dekker).
            Volatile.Write(ref _state, (epoch << 32) | Closed);
            Volatile.Write(ref _job, job);
            Volatile.Write(ref _count, count);
            Volatile.Write(ref _completed, 0);
            _failure = null;
            Interlocked.Exchange(ref _state, epoch << 32);
            int helpers = Math.Min(WorkerCount - 1, count - 1);
            for (int i = 1; i <= helpers; i++)
            {
                _helpers[i].WakeIfParked();
            }

            Work(0);
            WaitForCompletion(count);
            Volatile.Write(ref _job, null);
            if (_failure is not null)
            {
                ExceptionDispatchInfo.Throw(_failure);
            }
        }
    }

    /// <summary>Synchronisation counters since the pool started (exact once no launch is running).</summary>
    public WorkerPoolStatistics Statistics()
    {
        long[] chunks = _helpers.Select(helper => helper.Chunks).ToArray();
        long parks = _callerParks + _helpers.Sum(helper => helper.Parks);
        return new WorkerPoolStatistics(_launches, _inlineRuns, _waitTicks * 1000.0 / Stopwatch.Frequency, chunks, parks);
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
            _helpers[i].Wake();
        }

        for (int i = 1; i < WorkerCount; i++)
        {
            _threads[i].Join();
            _helpers[i].Dispose();
        }

        _done.Dispose();
    }

    /// <summary>The caller's wait for chunks other workers claimed: a bounded spin, then the event.</summary>
    private void WaitForCompletion(int count)
    {
        if (Volatile.Read(ref _completed) == count)
        {
            return;
        }

        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() - start < _callerSpinTicks)
        {
            Thread.SpinWait(8);
            if (Volatile.Read(ref _completed) == count)
            {
                _waitTicks += Stopwatch.GetTimestamp() - start;
                return;
            }
        }

        // Park: publish the flag with a full fence, then look again; the worker finishing the last
        // chunk increments _completed (a full fence) and then reads the flag, so one of us sees the other.
        // A set left over from an earlier launch (its last worker saw the flag after we had stopped
        // waiting) can end a wait early, so the count is checked again after every wake.
        _callerParks++;
        Interlocked.Exchange(ref _callerParked, 1);
        while (Volatile.Read(ref _completed) != count)
        {
            _done.Wait();
            _done.Reset();
        }

        Volatile.Write(ref _callerParked, 0);
        _waitTicks += Stopwatch.GetTimestamp() - start;
    }

    /// <summary>Claims and runs chunks of the current launch until none is left.</summary>
    private void Work(int worker)
    {
        Helper self = _helpers[worker];
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
            self.Chunks++;
            try
            {
                job.Execute((int)next, worker);
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _failure, exception, null);
            }

            if (Interlocked.Increment(ref _completed) == count && Volatile.Read(ref _callerParked) == 1)
            {
                _done.Set();
            }
        }
    }

    private void HelperLoop(int index)
    {
        Helper self = _helpers[index];
        long seenEpoch = 0;
        while (!_disposed)
        {
            long epoch = Volatile.Read(ref _state) >> 32;
            if (epoch == seenEpoch)
            {
                epoch = WaitForLaunch(self, seenEpoch);
                if (_disposed)
                {
                    return;
                }
            }

            seenEpoch = epoch;
            BeforeHelperClaims?.Invoke(index);
            Work(index);
        }
    }

    /// <summary>A helper's wait for a launch newer than <paramref name="seenEpoch"/>: a bounded spin, then park.</summary>
    private long WaitForLaunch(Helper self, long seenEpoch)
    {
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() - start < _helperSpinTicks)
        {
            Thread.SpinWait(8);
            long epoch = Volatile.Read(ref _state) >> 32;
            if (epoch != seenEpoch)
            {
                return epoch;
            }
        }

        while (true)
        {
            self.Parks++;
            long epoch = self.Park(ref _state, seenEpoch);
            if (epoch != seenEpoch || _disposed)
            {
                return epoch;
            }
        }
    }

    /// <summary>A helper's parking place and counters (one object per worker).</summary>
    private sealed class Helper : IDisposable
    {
        private readonly ManualResetEventSlim _wake = new(false, 0);
        private int _parked;

        /// <summary>Chunks this worker ran (counted for the profile).</summary>
        public long Chunks;

        /// <summary>Times this worker parked.</summary>
        public long Parks;

        /// <summary>Parks until woken, unless the epoch in <paramref name="state"/> already moved past <paramref name="seenEpoch"/>.</summary>
        public long Park(ref long state, long seenEpoch)
        {
            Interlocked.Exchange(ref _parked, 1);
            long epoch = Volatile.Read(ref state) >> 32;
            if (epoch == seenEpoch)
            {
                _wake.Wait();
                epoch = Volatile.Read(ref state) >> 32;
            }

            Volatile.Write(ref _parked, 0);
            _wake.Reset();
            return epoch;
        }

        /// <summary>Wakes the helper if it is parked (the caller has published the launch with a full fence).</summary>
        public void WakeIfParked()
        {
            if (Volatile.Read(ref _parked) == 1)
            {
                _wake.Set();
            }
        }

        public void Wake() => _wake.Set();

        public void Dispose() => _wake.Dispose();
    }
}
