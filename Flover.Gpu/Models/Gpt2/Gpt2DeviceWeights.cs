using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models.Gpt2;

/// <summary>
/// GPT-2's weights on an accelerator: matrices packed for its matmul in the precision asked for (as
/// stored by default), vectors and the position embedding as F32 buffers (F16 and BF16 widened
/// exactly). When the LM head is tied to the token embedding, as in GPT-2, the table is held once,
/// as the LM head, and embedding lookups read its columns. Shapes are checked against the config,
/// naming the tensor on a mismatch. A preset's weights (<see cref="PresetWeights"/>, whole model)
/// are made by the accelerator itself, on the device where it can.
/// </summary>
internal sealed partial class Gpt2DeviceWeights : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    private readonly TensorDType? _matrixType;

    public Gpt2DeviceWeights(Accelerator accelerator, IModelWeights weights, TensorDType? matrixType, TensorShard? shard = null)
    {
        _matrixType = matrixType;
        try
        {
            if (shard is null && weights is PresetWeights preset)
            {
                Generate(accelerator, preset);
                return;
            }

            Gpt2Config config = weights.Config;
            int e = config.EmbeddingSize;
            TensorView tokenEmbedding = Expect(weights, Gpt2TensorNames.TokenEmbedding, config.VocabularySize, e);
            PositionEmbedding = Vector(accelerator, Expect(weights, Gpt2TensorNames.PositionEmbedding, config.MaxPositions, e));
            FinalNormWeight = Vector(accelerator, Expect(weights, Gpt2TensorNames.FinalNormWeight, e));
            FinalNormBias = Vector(accelerator, Expect(weights, Gpt2TensorNames.FinalNormBias, e));
            // GPT-2 ties the LM head to the token embedding; a checkpoint with its own head uses it.
            TensorView head = weights.TensorNames.Contains(Gpt2TensorNames.LmHead)
                ? Expect(weights, Gpt2TensorNames.LmHead, config.VocabularySize, e)
                : tokenEmbedding;
            using var slices = new SliceMemory();
            var split = new Gpt2WeightSplit(config, shard, slices);
            LmHead = Matrix(accelerator, split.VocabularyRows(head), MatrixLayout.OutputMajor);
            unsafe
            {
                // A tied head is the same bytes as the embedding (the binder aliases the view), so the
                // lookup reads the head's columns (a shard: its vocabulary slice's, summed over shards);
                // a checkpoint with its own head keeps a full F32 table for lookups.
                TokenEmbedding = head.Pointer == tokenEmbedding.Pointer ? null : Vector(accelerator, tokenEmbedding);
            }

            Layers = new Gpt2LayerWeights[config.LayerCount];
            for (int layer = 0; layer < config.LayerCount; layer++)
            {
                Layers[layer] = new Gpt2LayerWeights(
                    Vector(accelerator, Expect(weights, Gpt2TensorNames.Norm1Weight(layer), e)),
                    Vector(accelerator, Expect(weights, Gpt2TensorNames.Norm1Bias(layer), e)),
                    Matrix(accelerator, split.HeadColumns(Expect(weights, Gpt2TensorNames.AttentionQkvWeight(layer), e, 3 * e)), MatrixLayout.InputMajor),
                    Vector(accelerator, split.HeadColumns(Expect(weights, Gpt2TensorNames.AttentionQkvBias(layer), 3 * e))),
                    Matrix(accelerator, split.HeadRows(Expect(weights, Gpt2TensorNames.AttentionOutWeight(layer), e, e)), MatrixLayout.InputMajor),
                    Vector(accelerator, Expect(weights, Gpt2TensorNames.AttentionOutBias(layer), e)),
                    Vector(accelerator, Expect(weights, Gpt2TensorNames.Norm2Weight(layer), e)),
                    Vector(accelerator, Expect(weights, Gpt2TensorNames.Norm2Bias(layer), e)),
                    Matrix(accelerator, split.InnerColumns(Expect(weights, Gpt2TensorNames.MlpUpWeight(layer), e, config.InnerSize)), MatrixLayout.InputMajor),
                    Vector(accelerator, split.InnerColumns(Expect(weights, Gpt2TensorNames.MlpUpBias(layer), config.InnerSize))),
                    Matrix(accelerator, split.InnerRows(Expect(weights, Gpt2TensorNames.MlpDownWeight(layer), config.InnerSize, e)), MatrixLayout.InputMajor),
                    Vector(accelerator, Expect(weights, Gpt2TensorNames.MlpDownBias(layer), e)));
            }
        }
        catch
        {
            // A failure part-way (a missing or misshapen tensor, a device out of memory on the Nth
            // upload) must not strand what was already uploaded: nobody else holds it, and on a GPU
            // the memory would stay taken until the process ends.
            Dispose();
            throw;
        }
    }

    /// <summary>The token embedding table, or null when it is the LM head's columns (tied).</summary>
    public MemoryBuffer<float>? TokenEmbedding { get; private set; }

    public MemoryBuffer<float> PositionEmbedding { get; private set; }

    public MemoryBuffer<float> FinalNormWeight { get; private set; }

    public MemoryBuffer<float> FinalNormBias { get; private set; }

    public DeviceMatrix LmHead { get; private set; }

    public Gpt2LayerWeights[] Layers { get; private set; }

    /// <summary>Bytes of weights held on the device.</summary>
    public long ByteSize { get; private set; }

    public void Dispose()
    {
        foreach (IDisposable item in _owned)
        {
            item.Dispose();
        }

        _owned.Clear();
    }

    private static TensorView Expect(IModelWeights weights, string name, params long[] shape)
    {
        TensorView tensor;
        try
        {
            tensor = weights.Get(name);
        }
        catch (KeyNotFoundException exception)
        {
            throw new FloverException($"{weights.Source} has no tensor '{name}', which GPT-2 needs.", exception);
        }

        if (!tensor.Shape.SequenceEqual(shape))
        {
            throw new FloverException(
                $"Tensor '{name}' in {weights.Source} has shape [{string.Join(", ", tensor.Shape)}]; the model's config needs [{string.Join(", ", shape)}].");
        }

        return tensor;
    }

    private MemoryBuffer<float> Vector(Accelerator accelerator, TensorView tensor)
    {
        MemoryBuffer<float> buffer = accelerator.UploadTensor(tensor);
        _owned.Add(buffer);
        ByteSize += buffer.Length * sizeof(float);
        return buffer;
    }

    private DeviceMatrix Matrix(Accelerator accelerator, TensorView tensor, MatrixLayout layout)
    {
        DeviceMatrix matrix = accelerator.UploadMatrix(tensor, layout, _matrixType ?? tensor.DType);
        _owned.Add(matrix);
        ByteSize += matrix.ByteSize;
        return matrix;
    }
}

/// <summary>One transformer block's weights on the device.</summary>
internal sealed record Gpt2LayerWeights(
    MemoryBuffer<float> Norm1Weight,
    MemoryBuffer<float> Norm1Bias,
    DeviceMatrix QkvWeight,
    MemoryBuffer<float> QkvBias,
    DeviceMatrix AttentionOutWeight,
    MemoryBuffer<float> AttentionOutBias,
    MemoryBuffer<float> Norm2Weight,
    MemoryBuffer<float> Norm2Bias,
    DeviceMatrix MlpUpWeight,
    MemoryBuffer<float> MlpUpBias,
    DeviceMatrix MlpDownWeight,
    MemoryBuffer<float> MlpDownBias);
