using System.Diagnostics;
using Flover.Gpu.Kernels.Cpu;

namespace Flover.Gpu.Accelerators;

/// <summary>The kernel queue: kernels wait here until a synchronisation point runs them as one sequence.</summary>
internal sealed partial class CpuAccelerator
{
    /// <summary>Kernels queued beyond this run at once (a forward pass of GPT-2 small queues about a hundred).</summary>
    private const int QueueCapacity = 1024;

    private readonly List<IWorkerJob> _queue = [];
    private readonly List<string> _queueNames = [];
    private JobArena<MatMulKernel> _matMuls = null!;
    private JobArena<AttentionKernel> _attentions = null!;
    private JobArena<LayerNormKernel> _layerNorms = null!;
    private JobArena<ActivationKernel> _activations = null!;
    private JobArena<RowJob> _rowJobs = null!;

    private void CreateArenas()
    {
        _matMuls = new(_pool);
        _attentions = new(_pool);
        _layerNorms = new(_pool);
        _activations = new(_pool);
        _rowJobs = new(_pool);
    }

    /// <summary>Runs every queued kernel, then waits for stragglers (see <see cref="WorkerPool.WaitForStragglers"/>): before freeing memory.</summary>
    internal void FlushAndSettle()
    {
        Flush();
        _pool.WaitForStragglers();
    }

    /// <summary>Runs every queued kernel in order; returns when all are done and rethrows the first failure.</summary>
    internal void Flush()
    {
        if (_queue.Count == 0)
        {
            return;
        }

        long start = _profile is null ? 0 : Stopwatch.GetTimestamp();
        try
        {
            _pool.RunSequence(_queue, _queue.Count);
        }
        finally
        {
            if (_profile is not null)
            {
                _profile.AddSequence(_queueNames, start, _pool);
            }

            DropQueue();
        }
    }

    /// <summary>Forgets the queued kernels (after they ran, or at disposal) and recycles their job objects.</summary>
    private void DropQueue()
    {
        _queue.Clear();
        _queueNames.Clear();
        _matMuls.Reset();
        _attentions.Reset();
        _layerNorms.Reset();
        _activations.Reset();
        _rowJobs.Reset();
    }

    private void Enqueue(IWorkerJob job, string? name)
    {
        if (job.ChunkCount == 0)
        {
            return;
        }

        _queue.Add(job);
        if (_profile is not null)
        {
            _queueNames.Add(name ?? "?");
        }

        if (_queue.Count >= QueueCapacity)
        {
            Flush();
        }
    }

    private void EnqueueRow(RowJob job) => Enqueue(job, _profile is null ? null : RowName(job.Operation));

    private static string RowName(RowOperation operation) => operation switch
    {
        RowOperation.Embed => "embed",
        RowOperation.EmbedColumns => "embed columns",
        RowOperation.EmbedVocabularySlice => "embed slice",
        RowOperation.AddPositionEmbeddings => "add positions",
        RowOperation.WriteKv => "write kv",
        RowOperation.AddBiasAndResidual => "bias+residual",
        _ => "gather rows",
    };

    /// <summary>
    /// Job objects of one kind, handed out in order and all recycled when the queue is dropped. A recycled
    /// object is reconfigured only once no straggler of the last sequence still reads it.
    /// </summary>
    private sealed class JobArena<T>(WorkerPool pool)
        where T : class, new()
    {
        private readonly List<T> _items = [];
        private int _used;

        public T Next()
        {
            if (_used == _items.Count)
            {
                _items.Add(new T());
            }
            else if (_used == 0)
            {
                pool.WaitForStragglers();
            }

            return _items[_used++];
        }

        public void Reset() => _used = 0;
    }
}
