using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Models.Gpt2;

/// <summary>
/// GPT-2 (pre-LN blocks, learned positions, tied LM head) on any <see cref="Accelerator"/>, with a
/// slot-based KV cache. The model only calls accelerator kernels on buffer views, so it runs unchanged
/// on any accelerator.
/// </summary>
public sealed partial class Gpt2Model : SlotCacheModel, IModelWeightsHeld
{
    private readonly Gpt2DeviceWeights _weights;
    private readonly Gpt2Workspace _workspace;
    private readonly TensorShard? _shard;
    private readonly int[] _vocabularyOffsets = [];
    private readonly KernelActivation _activation;
    private readonly bool _ownsWeights;

    /// <summary>Uploads <paramref name="weights"/> to <paramref name="accelerator"/> and allocates the KV pool and workspace.</summary>
    /// <param name="accelerator">Where the model runs; the caller keeps ownership.</param>
    /// <param name="weights">The weights; read during construction only, so the caller may dispose them afterwards.</param>
    /// <param name="options">Slots, slot capacity and rows per pass.</param>
    /// <exception cref="FloverException">A tensor is missing or misshapen, or the options do not fit the model.</exception>
    public Gpt2Model(Accelerator accelerator, IModelWeights weights, Gpt2ModelOptions options)
        : this(accelerator, NotNull(weights).Config, weights.Source, options, shard => new Gpt2DeviceWeights(accelerator, weights, options.WeightDType, shard), ownsWeights: true)
    {
    }

    /// <summary>
    /// A model instance over weights already uploaded (<paramref name="weights"/>), shared with
    /// other instances (the concurrent-instances baseline): it allocates only its own KV pool and
    /// workspace. The weights stay the caller's; dispose them after this model.
    /// </summary>
    /// <param name="accelerator">Where this instance runs (its own workers); must share memory with the weights' accelerator.</param>
    /// <param name="weights">The shared, read-only weights (the whole model, in their own precision).</param>
    /// <param name="options">Slots, slot capacity and rows per pass; no shard, and no other weight precision.</param>
    /// <exception cref="FloverException">The options do not fit the model, or the accelerator cannot read the weights.</exception>
    public Gpt2Model(Accelerator accelerator, Gpt2SharedWeights weights, Gpt2ModelOptions options)
        : this(accelerator, CheckShared(accelerator, weights, options).Config, weights.Source, options, _ => weights.Device, ownsWeights: false)
    {
    }

    private Gpt2Model(Accelerator accelerator, Gpt2Config config, string source, Gpt2ModelOptions options, Func<TensorShard?, Gpt2DeviceWeights> upload, bool ownsWeights)
        : base(accelerator)
    {
        ArgumentNullException.ThrowIfNull(options);
        Config = config;
        _ownsWeights = ownsWeights;
        int capacity = RowStager.CheckShape(options.SlotCount, options.SlotCapacity, Config.MaxPositions, options.MaxRowsPerStep);

        if (Config.HeadCount <= 0 || Config.EmbeddingSize % Config.HeadCount != 0)
        {
            throw new FloverException($"{source}: {Config.HeadCount} heads do not divide the embedding size {Config.EmbeddingSize}.");
        }

        _activation = Config.Activation switch
        {
            Gpt2Activation.GeluTanh => KernelActivation.GeluTanh,
            Gpt2Activation.GeluExact => KernelActivation.GeluExact,
            Gpt2Activation.Relu => KernelActivation.Relu,
            _ => throw new FloverException($"{source}: unsupported activation {Config.Activation}."),
        };
        int rows = options.MaxRowsPerStep;
        // A group of one is the whole model: no collectives, bitwise the unsplit results.
        _shard = options.Shard is { Count: > 1 } ? options.Shard : null;
        int shards = _shard?.Count ?? 1;
        Config.CheckShardCount(shards, source);

        if (_shard is not null)
        {
            _vocabularyOffsets = [.. Enumerable.Range(0, shards + 1).Select(r => r == shards ? Config.VocabularySize : _shard.Share(Config.VocabularySize, r).Start)];
        }

        _weights = upload(_shard);
        KvCache cache;
        try
        {
            _workspace = new Gpt2Workspace(accelerator, Config, rows, shards, _shard is null ? Config.VocabularySize : _shard.Share(Config.VocabularySize).Count);
            cache = new KvCache(accelerator, new KvCacheLayout(options.SlotCount, Config.LayerCount, Config.HeadCount / shards, capacity, Config.HeadSize) { ElementType = options.KvDType });
        }
        catch
        {
            _workspace?.Dispose();
            if (ownsWeights)
            {
                _weights.Dispose();
            }

            throw;
        }

        AttachCache(cache, Config.VocabularySize, rows);
    }

    /// <summary>The model's hyper-parameters.</summary>
    public Gpt2Config Config { get; }

    /// <inheritdoc />
    public override int VocabularySize => Config.VocabularySize;

    /// <summary>Bytes of weights on the accelerator (packed matrices included).</summary>
    public long WeightBytes => _weights.ByteSize;

    /// <summary>The precision the LM head (and, unless the checkpoint mixes types, every matrix) is held in.</summary>
    public TensorDType WeightDType => _weights.LmHead.ElementType;

    /// <inheritdoc />
    private protected override void ReleaseBuffers()
    {
        _workspace.Dispose();
        if (_ownsWeights)
        {
            _weights.Dispose();
        }
    }

    private static IModelWeights NotNull(IModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return weights;
    }

    private static Gpt2SharedWeights CheckShared(Accelerator accelerator, Gpt2SharedWeights weights, Gpt2ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        if (!accelerator.SharesMemoryWith(weights.Accelerator))
        {
            throw new FloverException($"The weights of {weights.Source} live on {weights.Accelerator.Device.Name}, whose memory {accelerator.Device.Name} cannot read.");
        }

        if (options.Shard is { Count: > 1 })
        {
            throw new FloverException("Shared weights hold the whole model; a tensor-parallel shard uploads its own slice.");
        }

        if (options.WeightDType is { } dtype && dtype != weights.Device.LmHead.ElementType)
        {
            throw new FloverException($"The shared weights are held in {weights.Device.LmHead.ElementType}; a model over them cannot ask for {dtype}.");
        }

        return weights;
    }
}
