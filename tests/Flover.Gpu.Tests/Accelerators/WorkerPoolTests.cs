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

        /// <summary>
        /// Whether the other workers hold each chunk they claim until worker 0 has run one: on a loaded
        /// machine the helpers may otherwise claim every chunk before the calling thread looks, and a
        /// test of what worker 0 is would see nothing.
        /// </summary>
        public bool WorkerZeroFirst { get; init; }

        private volatile bool _workerZeroRan;

        public int ChunkCount => Runs.Length;

        public void Execute(int chunk, int worker)
        {
            if (WorkerZeroFirst && worker != 0)
            {
                Assert.True(SpinWait.SpinUntil(() => _workerZeroRan, TimeSpan.FromSeconds(30)), "worker 0 ran no chunk within 30 s");
            }

            Interlocked.Increment(ref Runs[chunk]);
            WorkerOfChunk[chunk] = worker;
            ThreadOfWorker[worker] = Environment.CurrentManagedThreadId;
            if (worker == 0)
            {
                _workerZeroRan = true;
            }

            if (chunk == FailOn)
            {
                throw new InvalidOperationException($"chunk {chunk} failed");
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
        using var pool = new WorkerPool(3);
        var job = new RecordingJob(64) { WorkerZeroFirst = true };

        pool.Run(job);

        Assert.Equal(Environment.CurrentManagedThreadId, job.ThreadOfWorker[0]);
        Assert.All(job.WorkerOfChunk, worker => Assert.InRange(worker, 0, 2));
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
