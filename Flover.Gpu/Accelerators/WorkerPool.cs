using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// A fixed set of kernel threads that runs sequences of launches. The thread calling <see cref="Run"/>
/// is worker 0, so a pool of one is plain sequential code and a pool of n starts only n − 1 threads.
/// </summary>
/// <remarks>
/// <para>
/// A sequence is a list of launches (phases) that run in order: every chunk of phase p finishes before
/// any chunk of phase p + 1 starts. The whole sequence is published at once, so a helper woken for it
/// works through all its phases without the caller publishing each one: while the caller is
/// descheduled, the helper carries on into the next phases instead of waiting for it. Within a phase,
/// workers claim chunks one at a time from a shared counter, so a descheduled worker delays a phase by
/// at most the one chunk it holds; everything it has not claimed, the running workers do. The worker
/// that completes a phase's last chunk opens the next phase.
/// </para>
/// <para>
/// Waiting: a worker with nothing to claim watches the state word for <c>spin</c> microseconds (pause
/// instructions, no yields) and then parks on its event; the spin is bounded in time, so on a loaded
/// machine a waiting thread gives its core back within tens of microseconds instead of holding it
/// against the thread it waits for. Parking and waking are a Dekker handshake: the parker publishes its
/// flag with a full fence and then reads the state again, the waker changes the state with a full fence
/// and then reads the flags, so no wake-up is lost.
/// </para>
/// <para>
/// Restartable launches (<see cref="IRestartableJob"/>, the few-row kernels of a decode step) go
/// further: a worker that has waited <c>spin</c> microseconds at the end of such a phase computes the
/// chunks still held by others itself, and each chunk is committed once, by whoever finishes it first
/// (a compare-and-swap on the chunk's state word, tagged with the sequence). A worker the OS has
/// descheduled in the middle of a chunk then costs the others one chunk's recomputation instead of
/// the rest of its time slice.
/// </para>
/// <para>
/// Which worker runs a chunk never changes a result: every kernel computes each output element
/// entirely inside one chunk, in a fixed order.
/// </para>
/// </remarks>
internal sealed partial class WorkerPool : IDisposable
{
    /// <summary>How long an idle helper watches for the next sequence before parking: longer than the host's gaps between a step's sequences, shorter than a time slice.</summary>
    internal const int HelperSpinMicroseconds = 100;

    /// <summary>How long a worker watches for a phase's last claimed chunks to finish before parking: a few chunks' time.</summary>
    internal const int PhaseSpinMicroseconds = 50;

    /// <summary>How long a worker watches a restartable phase's last chunks before computing them itself: about half a decode chunk.</summary>
    internal const int StealSpinMicroseconds = 5;

    private const int ChunkBits = 20;
    private const int PhaseBits = 12;
    private const long ChunkMask = (1L << ChunkBits) - 1;
    private const long PhaseMask = (1L << PhaseBits) - 1;

    /// <summary>The most phases one sequence may hold.</summary>
    internal const int MaxPhases = (1 << PhaseBits) - 1;

    /// <summary>The most chunks one phase may hold.</summary>
    internal const int MaxChunks = (1 << ChunkBits) - 1;

    private readonly long _helperSpinTicks;
    private readonly long _phaseSpinTicks;
    private readonly long _stealSpinTicks;
    private readonly Thread[] _threads;
    private readonly Worker[] _workers;
    private readonly Lock _runLock = new();
    private readonly IWorkerJob[] _single = new IWorkerJob[1];

    // (epoch << 32) | (phase << 20) | next unclaimed chunk of that phase. A claim is a compare-and-swap
    // on this word, so it succeeds only while the epoch and phase it read are still current: a worker
    // holding a stale sequence or phase can never claim. The epoch wraps after 2^32 sequences.
    private long _state;
    private long _epoch;
    private IWorkerJob[] _phases = [];
    private int[] _counts = [];
    private int[] _completed = [];
    private long[] _phaseTicks = [];
    private int[] _chunkBase = [];
    private bool[] _restartable = [];
    private bool[] _callerOnly = [];
    private long[] _chunkStates = [];
    private int _phaseCount;
    private Exception? _failure;
    private int _failedPhase;
    private volatile bool _disposed;

    // Counters for CpuKernelProfile (each written by one thread only; read when no sequence runs).
    private long _sequences;
    private long _phasesRun;
    private long _inlineRuns;
    private long _steals;
    private int _restartableInFlight;

    /// <param name="workerCount">Workers, the calling thread included.</param>
    /// <param name="helperSpinMicroseconds">How long an idle helper watches for the next sequence before parking.</param>
    /// <param name="phaseSpinMicroseconds">How long a worker watches for the current phase to finish before parking.</param>
    public WorkerPool(int workerCount, int helperSpinMicroseconds = HelperSpinMicroseconds, int phaseSpinMicroseconds = PhaseSpinMicroseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workerCount);
        ArgumentOutOfRangeException.ThrowIfNegative(helperSpinMicroseconds);
        ArgumentOutOfRangeException.ThrowIfNegative(phaseSpinMicroseconds);
        WorkerCount = workerCount;
        _helperSpinTicks = Stopwatch.Frequency * helperSpinMicroseconds / 1_000_000;
        _phaseSpinTicks = Stopwatch.Frequency * phaseSpinMicroseconds / 1_000_000;
        _stealSpinTicks = Math.Min(_phaseSpinTicks, Stopwatch.Frequency * StealSpinMicroseconds / 1_000_000);
        _workers = new Worker[workerCount];
        _threads = new Thread[workerCount];
        _workers[0] = new Worker();
        for (int i = 1; i < workerCount; i++)
        {
            _workers[i] = new Worker();
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
    /// Test hook: runs on worker n (the argument) before each attempt to claim a chunk, so a test can hold
    /// a worker "descheduled" at the worst moment with a barrier.
    /// </summary>
    internal Action<int>? BeforeClaim { get; set; }

    /// <summary>A chunk count giving each worker about <paramref name="perWorker"/> chunks of <paramref name="items"/> items.</summary>
    public int ChunkSize(int items, int perWorker = 4) => Math.Max(1, items / (WorkerCount * perWorker));

    /// <summary>Runs every chunk of <paramref name="job"/> and returns when all are done; rethrows the first failure.</summary>
    public void Run(IWorkerJob job)
    {
        lock (_runLock)
        {
            _single[0] = job;
            try
            {
                RunSequence(_single, 1);
            }
            finally
            {
                _single[0] = null!;
            }
        }
    }

    /// <summary>
    /// Runs the first <paramref name="count"/> jobs of <paramref name="jobs"/> in order, each job's chunks
    /// in parallel, and returns when all are done. After a chunk fails, the rest of its phase still runs,
    /// the later phases are skipped (their inputs would be wrong), and the first failure is rethrown.
    /// </summary>
    public void RunSequence(IReadOnlyList<IWorkerJob> jobs, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Math.Min(jobs.Count, MaxPhases));
        if (count == 0)
        {
            return;
        }

        if (WorkerCount == 1)
        {
            _inlineRuns++;
            EnsureCapacity(count);
            for (int phase = 0; phase < count; phase++)
            {
                long start = Stopwatch.GetTimestamp();
                IWorkerJob job = jobs[phase];
                for (int chunk = 0, chunks = job.ChunkCount; chunk < chunks; chunk++)
                {
                    job.Execute(chunk, 0);
                }

                _phaseTicks[phase] = Stopwatch.GetTimestamp() - start;
            }

            return;
        }

        // One sequence at a time: the state word, phases and counters are shared by every worker.
        lock (_runLock)
        {
            EnsureCapacity(count);

            // Phases without chunks are left out: nobody would complete them to open the next.
            int phases = 0;
            int totalChunks = 0;
            for (int i = 0; i < count; i++)
            {
                int chunks = jobs[i].ChunkCount;
                if (chunks > MaxChunks)
                {
                    throw new ArgumentOutOfRangeException(nameof(jobs), $"Launch {i} has {chunks} chunks; at most {MaxChunks} are supported.");
                }

                if (chunks > 0)
                {
                    _phases[phases] = jobs[i];
                    _counts[phases] = chunks;
                    _completed[phases] = 0;
                    _restartable[phases] = jobs[i] is IRestartableJob { Restartable: true };
                    _callerOnly[phases] = jobs[i] is ICallerOnlyJob;
                    _chunkBase[phases] = totalChunks;
                    totalChunks += chunks;
                    phases++;
                }
            }

            if (_chunkStates.Length < totalChunks)
            {
                // Chunk states are tagged with the sequence's epoch, so old entries never need clearing.
                _chunkStates = new long[Math.Max(totalChunks, _chunkStates.Length * 2)];
            }

            if (phases == 0)
            {
                return;
            }

            _sequences++;
            _phasesRun += phases;
            _phaseCount = phases;
            _failure = null;
            _failedPhase = int.MaxValue;
            long epoch = ++_epoch;
            // The opening write is a full fence: it publishes the phase arrays written above before the
            // state, and it comes before the parked flags are read (Dekker with Worker.Park).
            _phaseTicks[0] = Stopwatch.GetTimestamp();
            Interlocked.Exchange(ref _state, (epoch & 0xFFFF_FFFF) << 32);
            WakeParked();
            Work(0, epoch & 0xFFFF_FFFF);
            for (int i = 0; i < phases; i++)
            {
                _phases[i] = null!;
            }

            if (_failure is not null)
            {
                ExceptionDispatchInfo.Throw(_failure);
            }
        }
    }

    /// <summary>
    /// Wall time of each phase of the last sequence, in <see cref="Stopwatch"/> ticks: from the phase's
    /// opening to its last chunk's end (phases without chunks count as none). For the profile.
    /// </summary>
    public ReadOnlySpan<long> PhaseTicks(int count) => _phaseTicks.AsSpan(0, count);

    /// <summary>Synchronisation counters since the pool started (exact once no sequence is running).</summary>
    public WorkerPoolStatistics Statistics() => new(
        _sequences,
        _phasesRun,
        _inlineRuns,
        _steals,
        _workers[0].WaitTicks * 1000.0 / Stopwatch.Frequency,
        _workers.Select(worker => worker.Chunks).ToArray(),
        _workers.Sum(worker => worker.Parks));

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (int i = 1; i < WorkerCount; i++)
        {
            _workers[i].Wake();
        }

        for (int i = 1; i < WorkerCount; i++)
        {
            _threads[i].Join();
            _workers[i].Dispose();
        }

        _workers[0].Dispose();
    }

    private void EnsureCapacity(int count)
    {
        if (_phases.Length < count)
        {
            int size = Math.Max(count, _phases.Length * 2);
            _phases = new IWorkerJob[size];
            _counts = new int[size];
            _completed = new int[size];
            _phaseTicks = new long[size];
            _chunkBase = new int[size];
            _restartable = new bool[size];
            _callerOnly = new bool[size];
        }
    }

    private static long Epoch(long state) => (long)((ulong)state >> 32);

    private static int Phase(long state) => (int)((state >> ChunkBits) & PhaseMask);

    private void WakeParked()
    {
        for (int i = 0; i < WorkerCount; i++)
        {
            _workers[i].WakeIfParked();
        }
    }

    /// <summary>Claims and runs chunks of sequence <paramref name="epoch"/> phase after phase until its last phase is done.</summary>
    private void Work(int worker, long epoch)
    {
        Worker self = _workers[worker];
        while (true)
        {
            BeforeClaim?.Invoke(worker);
            long state = Volatile.Read(ref _state);
            if (Epoch(state) != epoch)
            {
                return;
            }

            int phase = Phase(state);
            if (phase >= _phaseCount)
            {
                return;
            }

            int next = (int)(state & ChunkMask);
            int count = _counts[phase];
            if (worker != 0 && _callerOnly[phase])
            {
                WaitForChange(self, state, _phaseSpinTicks, timed: false);
                continue;
            }

            if (next >= count)
            {
                // Everything in this phase is claimed: wait for the holders of its last chunks to finish,
                // or, for a restartable phase, finish them here if they take longer than the spin.
                if (!WaitForChange(self, state, _restartable[phase] ? _stealSpinTicks : _phaseSpinTicks, worker == 0, park: !_restartable[phase]))
                {
                    StealFrom(phase, epoch, worker);
                    WaitForChange(self, state, 0, worker == 0, park: true);
                }

                continue;
            }

            if (Interlocked.CompareExchange(ref _state, state + 1, state) != state)
            {
                continue;
            }

            // The claim succeeded, so epoch and phase were current: the phase's job is this one.
            self.Chunks++;
            if (!_restartable[phase])
            {
                Execute(phase, next, worker);
                Complete(phase, epoch);
                continue;
            }

            ref long chunkState = ref _chunkStates[_chunkBase[phase] + next];
            Volatile.Write(ref chunkState, (epoch << 2) | ChunkClaimed);
            RunRestartable(phase, next, worker, epoch, ref chunkState);
        }
    }

    private const long ChunkClaimed = 1;
    private const long ChunkCommitting = 2;

    /// <summary>Runs a non-restartable chunk, recording a failure instead of throwing.</summary>
    private void Execute(int phase, int chunk, int worker)
    {
        // After a failure the rest of the failing phase still runs (as a lone launch would), the
        // phases after it do not: their inputs would be wrong.
        if (phase > Volatile.Read(ref _failedPhase))
        {
            return;
        }

        try
        {
            _phases[phase].Execute(chunk, worker);
        }
        catch (Exception exception)
        {
            Fail(phase, exception);
        }
    }

    private void Fail(int phase, Exception exception)
    {
        if (Interlocked.CompareExchange(ref _failure, exception, null) is null)
        {
            Volatile.Write(ref _failedPhase, phase);
        }
    }

    /// <summary>Counts one chunk of <paramref name="phase"/> done; the last one opens the next phase.</summary>
    private void Complete(int phase, long epoch)
    {
        if (Interlocked.Increment(ref _completed[phase]) == _counts[phase])
        {
            // Last chunk of the phase: nobody else can change the state now (every claim fails on
            // next == count), so open the next phase, or mark the sequence done, and wake the parked.
            long now = Stopwatch.GetTimestamp();
            _phaseTicks[phase] = now - _phaseTicks[phase];
            if (phase + 1 < _phaseCount)
            {
                _phaseTicks[phase + 1] = now;
            }

            Interlocked.Exchange(ref _state, (epoch << 32) | ((long)(phase + 1) << ChunkBits));
            WakeParked();
        }
    }

    /// <summary>
    /// Waits until the state word differs from <paramref name="seen"/>: a bounded spin, then (if
    /// <paramref name="park"/>) park. Returns whether it changed; false only when the spin ran out unparked.
    /// </summary>
    private bool WaitForChange(Worker self, long seen, long spinTicks, bool timed, bool park = true)
    {
        long start = Stopwatch.GetTimestamp();
        bool changed = false;
        while (Stopwatch.GetTimestamp() - start < spinTicks)
        {
            Thread.SpinWait(8);
            if (Volatile.Read(ref _state) != seen || _disposed)
            {
                changed = true;
                break;
            }
        }

        if (!changed && park)
        {
            while (Volatile.Read(ref _state) == seen && !_disposed)
            {
                self.Parks++;
                self.Park(ref _state, seen);
            }

            changed = true;
        }

        if (timed)
        {
            self.WaitTicks += Stopwatch.GetTimestamp() - start;
        }

        return changed;
    }

    private void HelperLoop(int index)
    {
        Worker self = _workers[index];
        long seenEpoch = 0;
        while (true)
        {
            long state = Volatile.Read(ref _state);
            if (Epoch(state) == seenEpoch || Phase(state) >= _phaseCount)
            {
                // Nothing new (or the sequence is already over): wait for the state to move on.
                WaitForChange(self, state, _helperSpinTicks, timed: false);
                if (_disposed)
                {
                    return;
                }

                continue;
            }

            seenEpoch = Epoch(state);
            Work(index, seenEpoch);
        }
    }
}
