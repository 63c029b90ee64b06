using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// What a GPT-2 model will hold on a device (weights in their precision, the KV pool, the
/// activation workspace), checked against the device's free memory before anything is uploaded, so
/// a model that does not fit fails with one line naming each part instead of half-way through its
/// weights. The call to make before <c>new Gpt2Model(...)</c> on a GPU.
/// </summary>
public static class DeviceMemoryPlan
{
    /// <summary>Throws when the model <paramref name="weights"/> and <paramref name="options"/> describe does not fit <paramref name="accelerator"/>'s free memory.</summary>
    /// <exception cref="FloverException">Weights + KV + workspace exceed the free memory (the message gives each part, free and total).</exception>
    public static void Check(IlgpuAccelerator accelerator, IModelWeights weights, Gpt2ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        (long weightBytes, long kvBytes, long workspaceBytes) = Estimate(weights, options);
        long needed = weightBytes + kvBytes + workspaceBytes;
        long free = accelerator.FreeBytes;
        if (needed > free)
        {
            throw new FloverException(
                $"{accelerator.Device.Name}: the model does not fit: weights {weightBytes:N0} bytes + KV pool {kvBytes:N0} bytes ({options.SlotCount} slots) + workspace {workspaceBytes:N0} bytes = {needed:N0} bytes needed, {free:N0} free of {accelerator.TotalBytes:N0}. Use fewer KV slots, a shorter slot capacity, 16-bit weights or a 16-bit KV cache.");
        }
    }

    /// <summary>Bytes of weights, KV pool and workspace of a whole (unsharded) model.</summary>
    public static (long Weights, long Kv, long Workspace) Estimate(IModelWeights weights, Gpt2ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        bool ownHead = weights.TensorNames.Contains(Gpt2TensorNames.LmHead);
        return Estimate(weights.Config, weights.TensorNames.Select(name => weights.Get(name)).Select(t => (t.Name, t.Shape, t.DType)), ownHead, options);
    }

    /// <summary>
    /// Bytes of weights, KV pool and workspace of preset <paramref name="preset"/> (its weights
    /// generated in F32, the LM head tied), known before a byte is generated.
    /// </summary>
    /// <exception cref="FloverException">Not a preset name.</exception>
    public static (long Weights, long Kv, long Workspace) EstimatePreset(string preset, Gpt2ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Gpt2Config config = Gpt2Presets.ConfigOf(preset);
        return Estimate(config, Gpt2TensorShapes.Required(config).Select(t => (t.Name, (IReadOnlyList<long>)t.Shape, TensorDType.F32)), ownHead: false, options);
    }

    private static (long Weights, long Kv, long Workspace) Estimate(Gpt2Config config, IEnumerable<(string Name, IReadOnlyList<long> Shape, TensorDType DType)> tensors, bool ownHead, Gpt2ModelOptions options)
    {
        long weightBytes = 0;
        foreach ((string name, IReadOnlyList<long> shape, TensorDType dtype) in tensors)
        {
            // Matrices are held in the asked precision; vectors, the position table and an untied
            // token table as F32 (a tied token table is the LM head, held once).
            bool matrix = shape.Count == 2 && name != Gpt2TensorNames.PositionEmbedding && (name != Gpt2TensorNames.TokenEmbedding || !ownHead);
            long elements = shape.Aggregate(1L, (product, dim) => product * dim);
            weightBytes += elements * (matrix ? (options.WeightDType ?? dtype).ByteSize() : sizeof(float));
        }

        int capacity = options.SlotCapacity == 0 ? config.MaxPositions : options.SlotCapacity;
        long kvBytes = options.SlotCount * config.KvBytesPerSlot(capacity, options.KvDType);
        long e = config.EmbeddingSize;
        long rows = options.MaxRowsPerStep;
        // Residual, normed, qkv, attention, MLP, logits, plus the attention and split-K scratch.
        long workspace = rows * ((4 * e) + (3 * e) + config.InnerSize + config.VocabularySize + ((long)config.HeadCount * capacity) + (4L * config.InnerSize)) * sizeof(float);
        return (weightBytes, kvBytes, workspace);
    }
}
