using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Models.Llama;

/// <summary>
/// A LLaMA model (Hugging Face <c>LlamaForCausalLM</c>: RMSNorm, rotary embeddings, SwiGLU MLP,
/// grouped-query attention) on an <see cref="Accelerator"/>, with a slot-based KV cache sized by the
/// key/value heads. Like <see cref="Gpt2.Gpt2Model"/> it only calls accelerator kernels, each row's
/// arithmetic independent of the batch, so the <see cref="IModel"/> guarantees hold bitwise.
/// </summary>
public sealed partial class LlamaModel : SlotCacheModel, IModelWeightsHeld
{
    private readonly LlamaDeviceWeights _weights;
    private readonly LlamaWorkspace _workspace;
    private readonly TensorShard? _shard;
    private readonly LlamaShardLayout _layout;

    /// <summary>Uploads <paramref name="weights"/> to <paramref name="accelerator"/> and allocates the KV pool and workspace.</summary>
    /// <param name="accelerator">Where the model runs; the caller keeps ownership.</param>
    /// <param name="weights">The weights; read during construction only, so the caller may dispose them afterwards.</param>
    /// <param name="options">Slots, slot capacity, rows per pass and weight precision.</param>
    /// <exception cref="FloverException">The options do not fit the model.</exception>
    public LlamaModel(Accelerator accelerator, LlamaWeights weights, LlamaModelOptions options)
        : base(accelerator)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        Config = weights.Config;
        int capacity = RowStager.CheckShape(options.SlotCount, options.SlotCapacity, Config.MaxPositions, options.MaxRowsPerStep);

        int rows = options.MaxRowsPerStep;
        // A group of one is the whole model: no collectives, bitwise the unsplit results.
        _shard = options.Shard is { Count: > 1 } ? options.Shard : null;
        LlamaShardLayout.Check(Config, _shard?.Count ?? 1, weights.Source);
        _layout = _shard is null ? LlamaShardLayout.Whole(Config) : LlamaShardLayout.Of(Config, _shard.Rank, _shard.Count);
        _weights = new LlamaDeviceWeights(accelerator, weights, options.WeightDType, capacity, _layout, sharded: _shard is not null);
        KvCache cache;
        try
        {
            _workspace = new LlamaWorkspace(accelerator, Config, _layout, rows, sharded: _shard is not null);
            cache = new KvCache(accelerator, new KvCacheLayout(options.SlotCount, Config.LayerCount, _layout.KvHeads, capacity, Config.HeadSize) { ElementType = options.KvDType });
        }
        catch
        {
            _workspace?.Dispose();
            _weights.Dispose();
            throw;
        }

        AttachCache(cache, Config.VocabularySize, rows);
    }

    /// <summary>The model's hyper-parameters.</summary>
    public LlamaConfig Config { get; }

    /// <inheritdoc />
    public override int VocabularySize => Config.VocabularySize;

    /// <summary>Bytes of weights on the accelerator (packed matrices and the rotary table included).</summary>
    public long WeightBytes => _weights.ByteSize;

    /// <summary>The precision the LM head (and, unless the checkpoint mixes types, every matrix) is held in.</summary>
    public TensorDType WeightDType => _weights.LmHead.ElementType;

    /// <inheritdoc />
    private protected override void ReleaseBuffers()
    {
        _workspace.Dispose();
        _weights.Dispose();
    }
}
