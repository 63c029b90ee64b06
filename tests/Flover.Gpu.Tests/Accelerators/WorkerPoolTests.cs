using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Tests.Accelerators;

public sealed class WorkerPoolTests
{
    private sealed class RecordingJob(int chunks) : IWorkerJob
    {
        public int[] Runs { get; } = new int[chunks];

        public int[] WorkerOfChunk { get; } = new int[chunks];

        public int?[] ThreadOfWorker { get; } = new int?[8];

        public int? FailOn { get; init; }

        /// <summary>Called at the start of every chunk with (chunk, worker): the tests' barriers.</summary>
        public Action<int, int>? OnExecute { get; init; }

        public int ChunkCount => Runs.Length;

        public void Execute(int chunk, int worker)
        {
            OnExecute?.Invoke(chunk, worker);
            Interlocked.Increment(ref Runs[chunk]);
            WorkerOfChunk[chunk] = worker;
            ThreadOfWorker[worker] = Environment.CurrentManagedThreadId;
            if (chunk == FailOn)
            {
                throw new InvalidOperationException($"chunk {chunk} failed");
            }
        }
    }

    /// <summary>A restartable launch that counts computations and commits per chunk.</summary>
    private sealed class StagedJob(int chunks) : IRestartableJob
    {
        private int _computations;

        public int[] Commits { get; } = new int[chunks];

        public int[] CommittedBy { get; } = new int[chunks];

        public int Computations => Volatile.Read(ref _computations);

        public Action<int, int>? OnCompute { get; init; }

        public bool Restartable => true;

        public int ChunkCount => chunks;

        public void Execute(int chunk, int worker) => throw new InvalidOperationException("A restartable launch is computed and committed.");

        public void Compute(int chunk, int worker)
        {
            OnCompute?.Invoke(chunk, worker);
            Interlocked.Increment(ref _computations);
        }

        public void Commit(int chunk, int worker)
        {
            Interlocked.Increment(ref Commits[chunk]);
            CommittedBy[chunk] = worker;
        }
    }

    /// <summary>A phase that checks, in every chunk, that the phase before it had finished all its chunks.</summary>
    private sealed class PhaseJob(int chunks, PhaseJob? previous) : IWorkerJob
    {
        private int _done;

        public int Done => Volatile.Read(ref _done);

        public bool StartedEarly { get; private set; }

        public int[] Workers { get; } = new int[chunks];

        public Action? OnDone { get; set; }

        public int ChunkCount => chunks;

        public void Execute(int chunk, int worker)
        {
            if (previous is not null && previous.Done != previous.ChunkCount)
            {
                StartedEarly = true;
            }

            Workers[chunk] = worker;
            if (Interlocked.Increment(ref _done) == chunks)
            {
                OnDone?.Invoke();
            }
        }
    }

    [Fact]
    public void Every_chunk_of_every_launch_runs_exactly_once()
    {
        using var pool = new WorkerPool(4);
        var random = new Random(3);

        for (int launch = 0; launch < 300; launch++)
        {
            var job = new RecordingJob(random.Next(0, 50));
            pool.Run(job);
            Assert.All(job.Runs, runs => Assert.Equal(1, runs));
        }
    }

    [Fact]
    public void Worker_zero_is_the_calling_thread()
    {
        // Helpers stay out until the caller has run a chunk, so worker 0 certainly runs one. (Events are
        // declared before the pool so they outlive its helpers.)
        using var callerRan = new ManualResetEventSlim(false);
        using var pool = new WorkerPool(3);
        pool.BeforeClaim = worker => { if (worker != 0) { callerRan.Wait(); } };
        var job = new RecordingJob(64) { OnExecute = (_, worker) => { if (worker == 0) { callerRan.Set(); } } };

        pool.Run(job);

        Assert.Equal(Environment.CurrentManagedThreadId, job.ThreadOfWorker[0]);
        Assert.All(job.WorkerOfChunk, worker => Assert.InRange(worker, 0, 2));
    }

    [Fact]
    public void The_caller_runs_every_chunk_while_the_helpers_are_descheduled_before_claiming()
    {
        // The helpers see the launch but are held (as a descheduled thread would be) until it is over.
        using var released = new ManualResetEventSlim(false);
        using var pool = new WorkerPool(3);
        pool.BeforeClaim = worker => { if (worker != 0) { released.Wait(); } };
        var job = new RecordingJob(40);

        pool.Run(job);
        released.Set();

        Assert.All(job.Runs, runs => Assert.Equal(1, runs));
        Assert.All(job.WorkerOfChunk, worker => Assert.Equal(0, worker));
    }

    [Fact]
    public void A_helper_stalled_inside_its_chunk_holds_up_only_that_chunk_the_caller_does_the_rest()
    {
        const int chunks = 32;
        using var helperClaimed = new ManualResetEventSlim(false);
        using var othersDone = new ManualResetEventSlim(false);
        using var pool = new WorkerPool(2);
        int doneByCaller = 0;
        var job = new RecordingJob(chunks)
        {
            OnExecute = (_, worker) =>
            {
                if (worker != 0)
                {
                    // The helper's chunk: announce it, then stall until the caller has done all others.
                    helperClaimed.Set();
                    othersDone.Wait();
                    return;
                }

                // The caller's first chunk waits until the helper holds one, so the split is certain.
                helperClaimed.Wait();
                if (Interlocked.Increment(ref doneByCaller) == chunks - 1)
                {
                    othersDone.Set();
                }
            },
        };

        pool.Run(job);

        Assert.All(job.Runs, runs => Assert.Equal(1, runs));
        Assert.Equal(chunks - 1, job.WorkerOfChunk.Count(worker => worker == 0));
        Assert.Equal(1, job.WorkerOfChunk.Count(worker => worker == 1));
    }

    [Fact]
    public void With_no_spinning_every_wait_parks_and_no_wake_up_is_lost()
    {
        // Zero spin: helpers park after every launch and every worker parks at every phase end it waits
        // for, so each launch goes through the park / wake handshake on all sides.
        using var pool = new WorkerPool(3, helperSpinMicroseconds: 0, phaseSpinMicroseconds: 0);
        long expected = 0;
        for (int launch = 0; launch < 2000; launch++)
        {
            var job = new RecordingJob(2 + (launch % 9));
            pool.Run(job);
            expected += job.ChunkCount;
            Assert.All(job.Runs, runs => Assert.Equal(1, runs));
        }

        Assert.Equal(expected, pool.Statistics().ChunksByWorker.Sum());
    }

    [Fact]
    public void The_phases_of_a_sequence_run_in_order_each_after_the_last_chunk_of_the_one_before()
    {
        using var pool = new WorkerPool(3, helperSpinMicroseconds: 0, phaseSpinMicroseconds: 0);
        var random = new Random(5);
        for (int sequence = 0; sequence < 200; sequence++)
        {
            var phases = new PhaseJob[1 + random.Next(12)];
            for (int i = 0; i < phases.Length; i++)
            {
                phases[i] = new PhaseJob(random.Next(1, 20), i == 0 ? null : phases[i - 1]);
            }

            pool.RunSequence(phases, phases.Length);

            Assert.All(phases, phase => Assert.Equal(phase.ChunkCount, phase.Done));
            Assert.All(phases, phase => Assert.False(phase.StartedEarly));
        }
    }

    [Fact]
    public void A_helper_runs_the_whole_sequence_while_the_calling_thread_is_descheduled()
    {
        // The caller publishes the sequence and is then held before its first claim (as if the OS had
        // descheduled it) until every chunk of every phase is done: the helper must not need it.
        using var allDone = new ManualResetEventSlim(false);
        using var pool = new WorkerPool(2);
        var phases = new PhaseJob[8];
        for (int i = 0; i < phases.Length; i++)
        {
            phases[i] = new PhaseJob(5, i == 0 ? null : phases[i - 1]);
        }

        phases[^1].OnDone = allDone.Set;
        pool.BeforeClaim = worker => { if (worker == 0) { allDone.Wait(); } };

        pool.RunSequence(phases, phases.Length);

        Assert.All(phases, phase => Assert.Equal(5, phase.Done));
        Assert.All(phases, phase => Assert.All(phase.Workers, worker => Assert.Equal(1, worker)));
    }

    [Fact]
    public void A_restartable_chunk_held_by_a_stalled_helper_is_recomputed_by_the_caller_and_committed_once()
    {
        const int chunks = 16;
        using var helperClaimed = new ManualResetEventSlim(false);
        using var release = new ManualResetEventSlim(false);
        using var pool = new WorkerPool(2);
        var job = new StagedJob(chunks)
        {
            OnCompute = (_, worker) =>
            {
                if (worker != 0)
                {
                    // The helper stalls inside its chunk (as if descheduled) until the test releases it.
                    helperClaimed.Set();
                    release.Wait();
                }
                else
                {
                    helperClaimed.Wait();
                }
            },
        };

        // Returns although the helper still holds its chunk: the caller computed that chunk as well.
        pool.RunSequence([job], 1);
        int[] committedBefore = job.Commits.ToArray();
        release.Set();
        pool.WaitForStragglers();

        Assert.All(committedBefore, commits => Assert.Equal(1, commits));
        Assert.All(job.Commits, commits => Assert.Equal(1, commits));
        Assert.All(job.CommittedBy, worker => Assert.Equal(0, worker));
        Assert.Equal(chunks + 1, job.Computations);
    }

    [Fact]
    public void After_a_failing_chunk_the_later_phases_are_skipped_and_the_failure_is_rethrown()
    {
        using var pool = new WorkerPool(2);
        var failing = new RecordingJob(6) { FailOn = 2 };
        var later = new RecordingJob(6);

        var error = Assert.Throws<InvalidOperationException>(() => pool.RunSequence([failing, later], 2));

        Assert.Equal("chunk 2 failed", error.Message);
        Assert.All(later.Runs, runs => Assert.Equal(0, runs));
        var next = new RecordingJob(10);
        pool.Run(next);
        Assert.All(next.Runs, runs => Assert.Equal(1, runs));
    }

    [Fact]
    public void A_failing_chunk_fails_the_launch_after_every_chunk_ran_and_the_pool_stays_usable()
    {
        using var pool = new WorkerPool(4);
        var job = new RecordingJob(40) { FailOn = 17 };

        var error = Assert.Throws<InvalidOperationException>(() => pool.Run(job));

        Assert.Equal("chunk 17 failed", error.Message);
        Assert.All(job.Runs, runs => Assert.Equal(1, runs));
        var next = new RecordingJob(10);
        pool.Run(next);
        Assert.All(next.Runs, runs => Assert.Equal(1, runs));
    }

    [Fact]
    public void A_pool_of_one_runs_chunks_in_order_on_the_caller()
    {
        using var pool = new WorkerPool(1);
        var job = new RecordingJob(5);

        pool.Run(job);

        Assert.All(job.Runs, runs => Assert.Equal(1, runs));
        Assert.Equal(Environment.CurrentManagedThreadId, job.ThreadOfWorker[0]);
    }
}
