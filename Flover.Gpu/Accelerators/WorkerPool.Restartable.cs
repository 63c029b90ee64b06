namespace Flover.Gpu.Accelerators;

/// <summary>The worker pool's restartable chunks (see <see cref="IRestartableJob"/>) and its workers' parking places.</summary>
internal sealed partial class WorkerPool
{
    /// <summary>
    /// Waits until no worker is still computing a restartable chunk that another worker has already
    /// committed (a straggler: it resumed after the OS had descheduled it and will find its result
    /// unwanted). Between sequences only stragglers compute, and they read their job's fields and
    /// inputs: call this before reconfiguring a job object or freeing memory a finished sequence read.
    /// Almost always returns at once; otherwise it yields the core to the straggler.
    /// </summary>
    public void WaitForStragglers()
    {
        var wait = default(SpinWait);
        while (Volatile.Read(ref _restartableInFlight) != 0)
        {
            wait.SpinOnce();
        }
    }

    /// <summary>Computes a restartable chunk and commits it if no other worker has; counts it done once.</summary>
    private void RunRestartable(int phase, int chunk, int worker, long epoch, ref long chunkState)
    {
        Interlocked.Increment(ref _restartableInFlight);
        try
        {
            RunRestartableCore(phase, chunk, worker, epoch, ref chunkState);
        }
        finally
        {
            Interlocked.Decrement(ref _restartableInFlight);
        }
    }

    private void RunRestartableCore(int phase, int chunk, int worker, long epoch, ref long chunkState)
    {
        var job = (IRestartableJob)_phases[phase];
        bool skip = phase > Volatile.Read(ref _failedPhase);
        if (!skip)
        {
            try
            {
                job.Compute(chunk, worker);
            }
            catch (Exception exception)
            {
                Fail(phase, exception);
                skip = true;
            }
        }

        // Exactly one computation of the chunk wins the right to commit and to count it.
        if (Interlocked.CompareExchange(ref chunkState, (epoch << 2) | ChunkCommitting, (epoch << 2) | ChunkClaimed) != ((epoch << 2) | ChunkClaimed))
        {
            return;
        }

        if (!skip)
        {
            try
            {
                job.Commit(chunk, worker);
            }
            catch (Exception exception)
            {
                Fail(phase, exception);
            }
        }

        Complete(phase, epoch);
    }

    /// <summary>Computes, as worker <paramref name="worker"/>, every chunk of <paramref name="phase"/> that another worker claimed and has not committed.</summary>
    private void StealFrom(int phase, long epoch, int worker)
    {
        int first = _chunkBase[phase];
        for (int chunk = 0, count = _counts[phase]; chunk < count; chunk++)
        {
            ref long chunkState = ref _chunkStates[first + chunk];
            if (Volatile.Read(ref chunkState) == ((epoch << 2) | ChunkClaimed) && Epoch(Volatile.Read(ref _state)) == epoch && Phase(Volatile.Read(ref _state)) == phase)
            {
                if (worker == 0)
                {
                    _steals++;
                }

                RunRestartable(phase, chunk, worker, epoch, ref chunkState);
            }
        }
    }

    /// <summary>A worker's parking place and counters (one object per worker).</summary>
    private sealed class Worker : IDisposable
    {
        private readonly ManualResetEventSlim _wake = new(false, 0);
        private int _parked;

        /// <summary>Chunks this worker ran (counted for the profile).</summary>
        public long Chunks;

        /// <summary>Times this worker parked.</summary>
        public long Parks;

        /// <summary>Time worker 0 spent waiting for other workers' chunks.</summary>
        public long WaitTicks;

        /// <summary>Parks until woken, unless <paramref name="state"/> has already moved from <paramref name="seen"/>.</summary>
        public void Park(ref long state, long seen)
        {
            Interlocked.Exchange(ref _parked, 1);
            if (Volatile.Read(ref state) == seen)
            {
                _wake.Wait();
            }

            Volatile.Write(ref _parked, 0);
            // A set left over from an earlier wake can end a later wait early; callers re-check the state.
            _wake.Reset();
        }

        /// <summary>Wakes the worker if it is parked (the waker has changed the state with a full fence).</summary>
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
