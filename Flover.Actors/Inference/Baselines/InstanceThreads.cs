using System.Collections.Concurrent;

namespace Flover.Actors.Inference.Baselines;

/// <summary>What one instance's step produced, copied off its thread.</summary>
internal sealed record InstanceEvent(int Instance, LoopToken[] Tokens, LoopFinished[] Finished, int DecodeRows, int LiveRows, int PrefillTokens, bool Failed, bool Done);

/// <summary>
/// Free-running model instances: each instance gets a dedicated thread (its accelerator calls
/// its kernels from the calling thread, and two instances must not share one) that runs its
/// request from prefill to the end at its own pace, posting an event after every token; the
/// scheduler's owner collects the events. No instance waits for another, as separate sessions
/// would not.
/// </summary>
internal sealed class InstanceThreads(TimeProvider clock) : IDisposable
{
    private readonly List<Runner> _runners = [];
    private readonly ConcurrentQueue<InstanceEvent> _events = new();
    private readonly SemaphoreSlim _posted = new(0);

    /// <summary>Starts <paramref name="batch"/> on instance <paramref name="instance"/>'s thread (which must be idle), running <paramref name="model"/>.</summary>
    public void Start(int instance, StaticBatch batch, Gpu.Models.IModel model)
    {
        while (_runners.Count <= instance)
        {
            _runners.Add(new Runner(_runners.Count, this, model));
        }

        _runners[instance].Start(batch);
    }

    /// <summary>Blocks until at least one event is posted, then returns every event posted so far.</summary>
    public List<InstanceEvent> WaitForEvents()
    {
        var events = new List<InstanceEvent>();
        while (events.Count == 0)
        {
            // A release may come after its event was already taken: a wake-up with nothing new just waits again.
            _posted.Wait();
            while (_events.TryDequeue(out InstanceEvent? posted))
            {
                events.Add(posted);
            }
        }

        return events;
    }

    public void Dispose()
    {
        foreach (Runner runner in _runners)
        {
            runner.Dispose();
        }

        _runners.Clear();
        _posted.Dispose();
    }

    private void Post(InstanceEvent posted)
    {
        _events.Enqueue(posted);
        _posted.Release();
    }

    private sealed class Runner : IDisposable
    {
        private readonly InstanceThreads _owner;
        private readonly int _index;
        private readonly Gpu.Models.ModelStepRunner _model;
        private readonly SemaphoreSlim _go = new(0);
        private readonly Thread _thread;
        private StaticBatch? _batch;
        private volatile bool _stopping;

        public Runner(int index, InstanceThreads owner, Gpu.Models.IModel model)
        {
            _model = new Gpu.Models.ModelStepRunner(model);
            _index = index;
            _owner = owner;
            _thread = new Thread(Loop) { IsBackground = true, Name = $"flover-instance-{index}" };
            _thread.Start();
        }

        public void Start(StaticBatch batch)
        {
            // The semaphore's release/wait pair publishes the batch to the runner's thread.
            _batch = batch;
            _go.Release();
        }

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

                StaticBatch batch = _batch!;
                bool done = false;
                while (!done && !_stopping)
                {
                    // A model failure ends the batch's running members with Error (no recovery in the baselines).
                    batch.Step(_owner.Clock.GetUtcNow(), _model);
                    done = batch.Done;
                    _owner.Post(new InstanceEvent(_index, [.. batch.Tokens], [.. batch.Finished], batch.DecodeRows, batch.LiveRows, batch.PrefillTokens, batch.Failed, done));
                }
            }
        }
    }

    private TimeProvider Clock => clock;
}
