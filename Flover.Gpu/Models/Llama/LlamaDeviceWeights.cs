using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;

namespace Flover.Gpu.Models.Llama;

/// <summary>
/// A LLaMA model's weights on an accelerator: the q, k and v projections fused into one
/// <c>[q | k | v]</c> matrix and gate and up into one <c>[gate | up]</c> matrix (one matmul each
/// instead of three and two), matrices in the precision asked for (as stored by default), norms and
/// biases as F32 buffers. The token embedding is a matrix too, so lookups read its columns in any
/// precision; a tied LM head is the same matrix, held once.
/// </summary>
internal sealed class LlamaDeviceWeights : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly TensorDType? _matrixType;

    public LlamaDeviceWeights(Accelerator accelerator, LlamaWeights weights, TensorDType? matrixType, int tablePositions)
    {
        _matrixType = matrixType;
        try
        {
            LlamaConfig config = weights.Config;
            TokenEmbedding = Matrix(accelerator, weights.Get(LlamaTensorNames.TokenEmbedding));
            LmHead = config.TieWordEmbeddings ? TokenEmbedding : Matrix(accelerator, weights.Get(LlamaTensorNames.LmHead));
            FinalNorm = Vector(accelerator, weights.Get(LlamaTensorNames.FinalNorm));
            float[] table = config.Rope.Table(tablePositions, config.HeadSize);
            RotaryTable = accelerator.Allocate<float>(table.Length);
            _owned.Add(RotaryTable);
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
        DeviceMatrix Fused(string name, params string[] parts) =>
            Matrix(accelerator, TensorSlicing.ConcatRows(Name(name), [.. parts.Select(p => weights.Get(Name(p)))], memory));
        MemoryBuffer<float>? FusedBias(string name, params string[] parts) =>
            weights.Find(Name(parts[0])) is null ? null : Vector(accelerator, TensorSlicing.ConcatRows(Name(name), [.. parts.Select(p => weights.Get(Name(p)))], memory));

        return new LlamaLayerWeights(
            Vector(accelerator, weights.Get(Name("input_layernorm.weight"))),
            Fused("self_attn.qkv_proj.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"),
            FusedBias("self_attn.qkv_proj.bias", "self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"),
            Matrix(accelerator, weights.Get(Name("self_attn.o_proj.weight"))),
            weights.Find(Name("self_attn.o_proj.bias")) is { } outBias ? Vector(accelerator, outBias) : null,
            Vector(accelerator, weights.Get(Name("post_attention_layernorm.weight"))),
            Fused("mlp.gate_up_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight"),
            FusedBias("mlp.gate_up_proj.bias", "mlp.gate_proj.bias", "mlp.up_proj.bias"),
            Matrix(accelerator, weights.Get(Name("mlp.down_proj.weight"))),
            weights.Find(Name("mlp.down_proj.bias")) is { } downBias ? Vector(accelerator, downBias) : null);
    }

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
