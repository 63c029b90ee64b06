namespace Flover.Actors.Inference.Baselines;

/// <summary>
/// Runs one piece of work per model instance at the same time and waits for all: the first on
/// the calling thread, each other on a dedicated thread of its own (created on first use, reused
/// after), because each instance's accelerator calls its kernels from the thread that calls it
/// and two instances must not share one.
/// </summary>
internal sealed class InstanceThreads : IDisposable
{
    private readonly List<Worker> _workers = [];

    public void Run(IReadOnlyList<Action> work)
    {
        if (work.Count == 0)
        {
            return;
        }

        if (work.Count == 1)
        {
            work[0]();
            return;
        }

        while (_workers.Count < work.Count - 1)
        {
            _workers.Add(new Worker(_workers.Count + 1));
        }

        using var done = new CountdownEvent(work.Count - 1);
        for (int i = 1; i < work.Count; i++)
        {
            _workers[i - 1].Start(work[i], done);
        }

        work[0]();
        done.Wait();
        foreach (Worker worker in _workers)
        {
            if (worker.TakeError() is { } error)
            {
                throw new InvalidOperationException("A model instance's step failed.", error);
            }
        }
    }

    public void Dispose()
    {
        foreach (Worker worker in _workers)
        {
            worker.Dispose();
        }

        _workers.Clear();
    }

    private sealed class Worker : IDisposable
    {
        private readonly SemaphoreSlim _go = new(0);
        private readonly Thread _thread;
        private Action? _work;
        private CountdownEvent? _done;
        private Exception? _error;
        private volatile bool _stopping;

        public Worker(int index)
        {
            _thread = new Thread(Loop) { IsBackground = true, Name = $"flover-instance-{index}" };
            _thread.Start();
        }

        public void Start(Action work, CountdownEvent done)
        {
            // The semaphore's release/wait pair publishes these fields to the worker thread.
            _work = work;
            _done = done;
            _go.Release();
        }

        public Exception? TakeError() => Interlocked.Exchange(ref _error, null);

        public void Dispose()
        {
            _stopping = true;
            _go.Release();
            _thread.Join();
            _go.Dispose();
        }

        private void Loop()
        {
            while (true)
            {
                _go.Wait();
                if (_stopping)
                {
                    return;
                }

                try
                {
                    _work!();
                }
                catch (Exception exception)
                {
                    _error = exception;
                }
                finally
                {
                    _done!.Signal();
                }
            }
        }
    }
}
