using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Tests.Accelerators;

public sealed class WorkerPoolTests
{
    private sealed class RecordingJob : IWorkerJob
    {
        public int[] Calls { get; } = new int[4];

        public int[] ThreadIds { get; } = new int[4];

        public int? FailOn { get; init; }

        public void Execute(int worker, int workerCount)
        {
            Interlocked.Increment(ref Calls[worker]);
            ThreadIds[worker] = Environment.CurrentManagedThreadId;
            if (worker == FailOn)
            {
                throw new InvalidOperationException($"worker {worker} failed");
            }
        }
    }

    [Fact]
    public void Every_worker_runs_each_launch_once_and_worker_zero_is_the_caller()
    {
        using var pool = new WorkerPool(4);
        var job = new RecordingJob();

        for (int launch = 0; launch < 100; launch++)
        {
            pool.Run(job);
        }

        Assert.All(job.Calls, calls => Assert.Equal(100, calls));
        Assert.Equal(Environment.CurrentManagedThreadId, job.ThreadIds[0]);
        Assert.Equal(4, job.ThreadIds.Distinct().Count());
    }

    [Fact]
    public void A_failing_worker_fails_the_launch_after_all_workers_finish()
    {
        using var pool = new WorkerPool(4);
        var job = new RecordingJob { FailOn = 2 };

        var error = Assert.Throws<InvalidOperationException>(() => pool.Run(job));

        Assert.Equal("worker 2 failed", error.Message);
        Assert.All(job.Calls, calls => Assert.Equal(1, calls));
        pool.Run(new RecordingJob());
    }
}
