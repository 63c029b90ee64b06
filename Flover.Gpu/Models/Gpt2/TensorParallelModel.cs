using System.Runtime.ExceptionServices;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Collectives;

namespace Flover.Gpu.Models.Gpt2;

/// <summary>
/// GPT-2 split over <see cref="ShardCount"/> tensor-parallel shards in this process (Megatron: heads
/// and MLP columns split, two all-reduces per layer, a vocabulary-parallel LM head), presented as
/// one <see cref="IModel"/>. Each shard is a <see cref="Gpt2Model"/> with its own accelerator on
/// <see cref="EngineOptions.Device"/> (on the CPU its share of the kernel threads, at least one;
/// on a GPU all shards open the same device) driven by its own thread; every call runs the same
/// plan on all shards at once, and they meet in the collectives of an
/// <see cref="InProcessCommunicatorGroup"/> (CPU) or a <see cref="HostStagedCommunicatorGroup"/> (device buffers). Results are the same from run to run (reductions add
/// shards in rank order) and within rounding of the unsplit model.
/// </summary>
/// <remarks>
/// If a shard fails inside a call, the group is aborted so no shard waits for ever, every shard
/// returns, the group is reset and the first failure is rethrown: the caller (the decode loop)
/// recovers as from any failed step, by re-prefilling its sequences, which rewrites every shard's KV.
/// </remarks>
public sealed class TensorParallelModel : IModel
{
    private readonly Accelerator[] _accelerators;
    private readonly Gpt2Model[] _shards;
    private readonly ICommunicatorGroup _group;
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _start;
    private readonly CountdownEvent _done;
    private readonly ExceptionDispatchInfo?[] _failures;
    private IReadOnlyList<PrefillPrompt>? _prompts;
    private DecodeRow[] _rows = new DecodeRow[16];
    private int _rowCount;
    private volatile bool _disposed;

    /// <summary>Uploads rank r's slice of <paramref name="weights"/> to each shard.</summary>
    /// <param name="engine">Kernel threads in all (split evenly over the shards, at least one each) and the weight precision.</param>
    /// <param name="weights">The whole checkpoint; read during construction only.</param>
    /// <param name="options">Slots, capacity and rows per pass of every shard (its <see cref="Gpt2ModelOptions.Shard"/> is set here).</param>
    /// <param name="shardCount">Shards; must divide the head count.</param>
    /// <exception cref="FloverException">The head count is not divisible by <paramref name="shardCount"/>, or the options do not fit.</exception>
    public TensorParallelModel(EngineOptions engine, IModelWeights weights, Gpt2ModelOptions options, int shardCount)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        if (shardCount <= 0)
        {
            throw new FloverException($"Tensor parallelism needs at least one shard, not {shardCount}.");
        }

        weights.Config.CheckShardCount(shardCount, weights.Source);

        int threadsEach = Math.Max(1, engine.ResolveThreadCount() / shardCount);
        _group = ICommunicatorGroup.Create(engine.Device.Kind, shardCount);
        _accelerators = new Accelerator[shardCount];
        _shards = new Gpt2Model[shardCount];
        try
        {
            for (int rank = 0; rank < shardCount; rank++)
            {
                // On a GPU every shard opens the same device (engine.Device): the shards then share its
                // memory and SMs, which checks tensor parallelism end to end on one GPU but is no faster.
                _accelerators[rank] = DeviceAccelerators.Open(engine.Device, engine with { Threads = threadsEach });
                if (rank == 0 && _accelerators[0] is IlgpuAccelerator device)
                {
                    // The whole model's weights, KV and workspace, which the shards on one device hold
                    // between them: one line naming each part instead of an upload failing half-way.
                    DeviceMemoryPlan.Check(device, weights, options);
                }

                _shards[rank] = new Gpt2Model(_accelerators[rank], weights, options with { Shard = new TensorShard(_group[rank]) });
            }
        }
        catch
        {
            DisposeShards();
            throw;
        }

        Config = weights.Config;
        _failures = new ExceptionDispatchInfo?[shardCount];
        _done = new CountdownEvent(0);
        _start = [.. Enumerable.Range(0, shardCount).Select(_ => new SemaphoreSlim(0))];
        _threads = new Thread[shardCount];
        for (int rank = 1; rank < shardCount; rank++)
        {
            int captured = rank;
            _threads[rank] = new Thread(() => ShardLoop(captured)) { IsBackground = true, Name = $"flover-shard-{rank}" };
            _threads[rank].Start();
        }
    }

    /// <summary>The model's hyper-parameters.</summary>
    public Gpt2Config Config { get; }

    /// <summary>Shards the model is split over.</summary>
    public int ShardCount => _shards.Length;

    /// <summary>The precision the weight matrices are held in.</summary>
    public TensorDType WeightDType => _shards[0].WeightDType;

    /// <summary>What runs each shard (SIMD width, threads), and how many shards.</summary>
    public string DeviceDetails => $"{_accelerators[0].Device.Details} × {ShardCount} shard(s)";

    /// <summary>
    /// Loads <paramref name="weights"/> as <paramref name="engine"/> asks: split over
    /// <see cref="EngineOptions.TensorParallel"/> shards (one shard is the whole model, owning its accelerator).
    /// </summary>
    public static TensorParallelModel Load(EngineOptions engine, IModelWeights weights, Gpt2ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        return new TensorParallelModel(engine, weights, options with { WeightDType = engine.WeightDType ?? options.WeightDType }, engine.TensorParallel);
    }

    /// <summary>Seconds every shard has spent in collectives (all-reduce and gather), summed over shards.</summary>
    public double CollectiveSeconds => _group.CollectiveSeconds;

    /// <summary>Bytes of weights over all shards (replicated tensors counted once per shard).</summary>
    public long WeightBytes => _shards.Sum(shard => shard.WeightBytes);

    /// <inheritdoc />
    public int VocabularySize => Config.VocabularySize;

    /// <inheritdoc />
    public int SlotCount => _shards[0].SlotCount;

    /// <inheritdoc />
    public int SlotCapacity => _shards[0].SlotCapacity;

    /// <inheritdoc />
    public long KvBytesPerSlot => _shards.Sum(shard => shard.KvBytesPerSlot);

    /// <inheritdoc />
    public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        _prompts = prompts;
        try
        {
            return RunOnAllShards();
        }
        finally
        {
            _prompts = null;
        }
    }

    /// <inheritdoc />
    public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
    {
        if (_rows.Length < rows.Length)
        {
            _rows = new DecodeRow[Math.Max(rows.Length, _rows.Length * 2)];
        }

        rows.CopyTo(_rows);
        _rowCount = rows.Length;
        return RunOnAllShards();
    }

    /// <inheritdoc />
    public void Copy(int fromSlot, int toSlot, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // Each shard moves its own heads' keys and values; no collective is involved.
        foreach (Gpt2Model shard in _shards)
        {
            shard.Copy(fromSlot, toSlot, length);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (int rank = 1; rank < _shards.Length; rank++)
        {
            _start[rank].Release();
            _threads[rank].Join();
        }

        DisposeShards();
        _done.Dispose();
        foreach (SemaphoreSlim start in _start)
        {
            start.Dispose();
        }
    }

    private ModelLogits RunOnAllShards()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Array.Clear(_failures);
        _done.Reset(_shards.Length - 1);
        for (int rank = 1; rank < _shards.Length; rank++)
        {
            _start[rank].Release();
        }

        ModelLogits? logits = RunShard(0);
        _done.Wait();
        ExceptionDispatchInfo? failure = _failures.FirstOrDefault(f => f is not null && f.SourceException is not CommunicatorAbortedException)
            ?? _failures.FirstOrDefault(f => f is not null);
        if (failure is not null)
        {
            // Every shard has returned: the group can be made whole again for the next call.
            _group.Reset();
            failure.Throw();
        }

        return logits!;
    }

    private ModelLogits? RunShard(int rank)
    {
        try
        {
            return _prompts is not null ? _shards[rank].Prefill(_prompts) : _shards[rank].Decode(_rows.AsSpan(0, _rowCount));
        }
        catch (Exception exception)
        {
            _failures[rank] = ExceptionDispatchInfo.Capture(exception);
            // The other shards may be waiting for this one in a collective: wake them.
            _group.Abort();
            return null;
        }
    }

    private void ShardLoop(int rank)
    {
        while (true)
        {
            _start[rank].Wait();
            if (_disposed)
            {
                return;
            }

            RunShard(rank);
            _done.Signal();
        }
    }

    private void DisposeShards()
    {
        foreach (Gpt2Model? shard in _shards)
        {
            shard?.Dispose();
        }

        foreach (Accelerator? accelerator in _accelerators)
        {
            accelerator?.Dispose();
        }
    }
}
