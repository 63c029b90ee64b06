using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;

namespace Flover.Gpu.Models.Llama;

/// <summary>
/// A LLaMA model's weights on an accelerator: the q, k and v projections fused into one
/// <c>[q | k | v]</c> matrix and gate and up into one <c>[gate | up]</c> matrix (one matmul each
/// instead of three and two), matrices in the precision asked for (as stored by default), norms and
/// biases as F32 buffers. The token embedding is a matrix too, so lookups read its columns in any
/// precision; a tied LM head is the same matrix, held once. A tensor-parallel shard holds its part
/// (<see cref="LlamaShardLayout"/>); norms and the biases added after a reduction are whole.
/// </summary>
internal sealed class LlamaDeviceWeights : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly TensorDType? _matrixType;
    private readonly LlamaShardLayout _shard;
    private readonly bool _sharded;

    public LlamaDeviceWeights(Accelerator accelerator, LlamaWeights weights, TensorDType? matrixType, int tablePositions, LlamaShardLayout shard, bool sharded)
    {
        _matrixType = matrixType;
        _shard = shard;
        _sharded = sharded;
        try
        {
            LlamaConfig config = weights.Config;
            // A shard holds its vocabulary rows of the embedding (looked up vocabulary-parallel and
            // summed over shards) and of the head (gathered to full logits).
            TokenEmbedding = Matrix(accelerator, VocabularyRows(weights.Get(LlamaTensorNames.TokenEmbedding)));
            LmHead = config.TieWordEmbeddings ? TokenEmbedding : Matrix(accelerator, VocabularyRows(weights.Get(LlamaTensorNames.LmHead)));
            FinalNorm = Vector(accelerator, weights.Get(LlamaTensorNames.FinalNorm));
            float[] table = config.Rope.Table(tablePositions, config.HeadSize);
            RotaryTable = accelerator.Allocate<float>(table.Length);
            _owned.Add(RotaryTable);
            ByteSize += table.Length * sizeof(float);
            accelerator.CopyFromCpu<float>(table, RotaryTable.View);
            Layers = new LlamaLayerWeights[config.LayerCount];
            for (int layer = 0; layer < config.LayerCount; layer++)
            {
                Layers[layer] = UploadLayer(accelerator, weights, layer);
            }
        }
        catch
        {
            // A failure part-way must not strand what was already uploaded (on a GPU: until the process ends).
            Dispose();
            throw;
        }
    }

    /// <summary>The token embedding as a [hidden → vocabulary] matrix, whose columns are the tokens' vectors.</summary>
    public DeviceMatrix TokenEmbedding { get; }

    /// <summary>The LM head (the token embedding itself when tied).</summary>
    public DeviceMatrix LmHead { get; }

    public MemoryBuffer<float> FinalNorm { get; }

    /// <summary>Per position, head-size / 2 cosines then as many sines (<see cref="LlamaRope.Table"/>).</summary>
    public MemoryBuffer<float> RotaryTable { get; }

    public LlamaLayerWeights[] Layers { get; }

    /// <summary>Bytes of weights held on the device (the rotary table included).</summary>
    public long ByteSize { get; private set; }

    public void Dispose()
    {
        foreach (IDisposable item in _owned)
        {
            item.Dispose();
        }

        _owned.Clear();
    }

    private LlamaLayerWeights UploadLayer(Accelerator accelerator, LlamaWeights weights, int layer)
    {
        string Name(string suffix) => LlamaTensorNames.Layer(layer, suffix);
        using var memory = new SliceMemory();
        int d = weights.Config.HeadSize;
        // nn.Linear's [output, input]: a shard's heads and MLP columns are output rows of q/k/v and
        // gate/up (views), and input columns of o and down (copies), whose partial products are summed.
        TensorView Query(string part) => OutputRows(weights.Get(Name(part)), _shard.FirstQueryHead * d, _shard.QueryHeads * d);
        TensorView KeyValue(string part) => OutputRows(weights.Get(Name(part)), _shard.FirstKvHead * d, _shard.KvHeads * d);
        TensorView Inner(string part) => OutputRows(weights.Get(Name(part)), _shard.MlpStart, _shard.MlpCount);
        DeviceMatrix Fused(string name, params TensorView[] parts) => Matrix(accelerator, TensorSlicing.ConcatRows(Name(name), parts, memory));
        MemoryBuffer<float>? FusedBias(string name, string first, Func<TensorView[]> parts) =>
            weights.Find(Name(first)) is null ? null : Vector(accelerator, TensorSlicing.ConcatRows(Name(name), parts(), memory));

        return new LlamaLayerWeights(
            Vector(accelerator, weights.Get(Name("input_layernorm.weight"))),
            Fused("self_attn.qkv_proj.weight", Query("self_attn.q_proj.weight"), KeyValue("self_attn.k_proj.weight"), KeyValue("self_attn.v_proj.weight")),
            FusedBias("self_attn.qkv_proj.bias", "self_attn.q_proj.bias", () => [Query("self_attn.q_proj.bias"), KeyValue("self_attn.k_proj.bias"), KeyValue("self_attn.v_proj.bias")]),
            Matrix(accelerator, InputColumns(weights.Get(Name("self_attn.o_proj.weight")), _shard.FirstQueryHead * d, _shard.QueryHeads * d, memory)),
            weights.Find(Name("self_attn.o_proj.bias")) is { } outBias ? Vector(accelerator, outBias) : null,
            Vector(accelerator, weights.Get(Name("post_attention_layernorm.weight"))),
            Fused("mlp.gate_up_proj.weight", Inner("mlp.gate_proj.weight"), Inner("mlp.up_proj.weight")),
            FusedBias("mlp.gate_up_proj.bias", "mlp.gate_proj.bias", () => [Inner("mlp.gate_proj.bias"), Inner("mlp.up_proj.bias")]),
            Matrix(accelerator, InputColumns(weights.Get(Name("mlp.down_proj.weight")), _shard.MlpStart, _shard.MlpCount, memory)),
            weights.Find(Name("mlp.down_proj.bias")) is { } downBias ? Vector(accelerator, downBias) : null);
    }

    private TensorView VocabularyRows(TensorView tensor) => OutputRows(tensor, _shard.VocabularyStart, _shard.VocabularyCount);

    private TensorView OutputRows(TensorView tensor, long start, long count) =>
        _sharded ? TensorSlicing.Rows(tensor, start, count) : tensor;

    private TensorView InputColumns(TensorView tensor, long start, long count, SliceMemory memory) =>
        _sharded ? TensorSlicing.Columns(tensor, [(start, count)], memory) : tensor;

    private MemoryBuffer<float> Vector(Accelerator accelerator, TensorView tensor)
    {
        MemoryBuffer<float> buffer = accelerator.UploadTensor(tensor);
        _owned.Add(buffer);
        ByteSize += buffer.Length * sizeof(float);
        return buffer;
    }

    private DeviceMatrix Matrix(Accelerator accelerator, TensorView tensor)
    {
        // nn.Linear (and the embedding, read as the head's transpose) store [output, input].
        DeviceMatrix matrix = accelerator.UploadMatrix(tensor, MatrixLayout.OutputMajor, _matrixType ?? tensor.DType);
        _owned.Add(matrix);
        ByteSize += matrix.ByteSize;
        return matrix;
    }
}

/// <summary>One decoder layer's weights on the device; biases are null when the config has none.</summary>
internal sealed record LlamaLayerWeights(
    MemoryBuffer<float> InputNorm,
    DeviceMatrix Qkv,
    MemoryBuffer<float>? QkvBias,
    DeviceMatrix Out,
    MemoryBuffer<float>? OutBias,
    MemoryBuffer<float> PostAttentionNorm,
    DeviceMatrix GateUp,
    MemoryBuffer<float>? GateUpBias,
    DeviceMatrix Down,
    MemoryBuffer<float>? DownBias);
