using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// What a model (GPT-2 or LLaMA) will hold on a device (weights in their precision, the KV pool, the
/// activation workspace), checked against the device's free memory before anything is uploaded, so
/// a model that does not fit fails with one line naming each part instead of half-way through its
/// weights. The call to make before <c>new Gpt2Model(...)</c> or <c>new LlamaModel(...)</c> on a GPU.
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
        Check(accelerator, Estimate(weights, options), options.SlotCount);
    }

    /// <summary>Throws when the LLaMA model <paramref name="weights"/> and <paramref name="options"/> describe does not fit <paramref name="accelerator"/>'s free memory.</summary>
    /// <exception cref="FloverException">Weights + KV + workspace exceed the free memory (the message gives each part, free and total).</exception>
    public static void Check(IlgpuAccelerator accelerator, LlamaWeights weights, LlamaModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        Check(accelerator, Estimate(weights, options), options.SlotCount);
    }

    /// <summary>
    /// Bytes of weights, KV pool and workspace of a whole LLaMA model: matrices (the token embedding
    /// included, a tied head counted once) in the asked precision, norms, biases and the rotary table
    /// in F32, the KV pool by key/value heads in its precision.
    /// </summary>
    public static (long Weights, long Kv, long Workspace) Estimate(LlamaWeights weights, LlamaModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        LlamaConfig config = weights.Config;
        int capacity = options.SlotCapacity == 0 ? config.MaxPositions : options.SlotCapacity;
        long weightBytes = (long)capacity * config.HeadSize * sizeof(float);
        foreach (string name in weights.TensorNames.Where(n => !(config.TieWordEmbeddings && n == LlamaTensorNames.LmHead)))
        {
            TensorView tensor = weights.Get(name);
            bool matrix = tensor.Shape.Count == 2;
            weightBytes += tensor.ElementCount * (matrix ? (options.WeightDType ?? tensor.DType).ByteSize() : sizeof(float));
        }

        long kvBytes = options.SlotCount * config.KvBytesPerSlot(capacity, options.KvDType);
        long e = config.HiddenSize;
        long attention = Math.Max(e, (long)config.HeadCount * config.HeadSize);
        long inner = config.IntermediateSize;
        long rows = options.MaxRowsPerStep;
        // Residual, normed, qkv, attention, gate/up, MLP, logits, plus the attention and split-K scratch
        // and the sampling's (SamplingScratch).
        long workspace = rows * (e + (2 * attention) + config.QkvSize + (3 * inner) + config.VocabularySize + ((long)config.HeadCount * capacity) + (4 * inner) + SamplingScratch(config.VocabularySize)) * sizeof(float);
        return (weightBytes, kvBytes, workspace);
    }

    private static void Check(IlgpuAccelerator accelerator, (long Weights, long Kv, long Workspace) estimate, int slotCount)
    {
        (long weightBytes, long kvBytes, long workspaceBytes) = estimate;
        long needed = weightBytes + kvBytes + workspaceBytes;
        long free = accelerator.FreeBytes;
        if (needed > free)
        {
            throw new FloverException(
                $"{accelerator.Device.Name}: the model does not fit: weights {weightBytes:N0} bytes + KV pool {kvBytes:N0} bytes ({slotCount} slots) + workspace {workspaceBytes:N0} bytes = {needed:N0} bytes needed, {free:N0} free of {accelerator.TotalBytes:N0}. Use fewer KV slots, a shorter slot capacity, 16-bit weights or a 16-bit KV cache.");
        }
    }

    /// <summary>Bytes of weights, KV pool and workspace of a whole (unsharded) model.</summary>
    public static (long Weights, long Kv, long Workspace) Estimate(IModelWeights weights, Gpt2ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        bool ownHead = weights.TensorNames.Contains(Gpt2TensorNames.LmHead);
        // A preset's recipes give the same names, shapes and dtypes as its host copy would, without making it.
        IEnumerable<(string, IReadOnlyList<long>, TensorDType)> tensors = weights is PresetWeights preset
            ? weights.TensorNames.Select(preset.Recipe).Select(t => (t.Name, (IReadOnlyList<long>)t.Shape, t.DType))
            : weights.TensorNames.Select(weights.Get).Select(t => (t.Name, t.Shape, t.DType));
        return Estimate(weights.Config, tensors, ownHead, options);
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
        // Residual, normed, qkv, attention, MLP, logits, plus the attention and split-K scratch and the sampling's.
        // The fast GEMM mode's scratch (a product before its epilogue and the rounded activations, at
        // most 1.5 × inner floats a row) fits in the split-K allowance that mode never uses; cuBLAS's
        // own workspace (tens of MiB, allocated by cuBLAS) is not counted.
        long workspace = rows * ((4 * e) + (3 * e) + config.InnerSize + config.VocabularySize + ((long)config.HeadCount * capacity) + (4L * config.InnerSize) + SamplingScratch(config.VocabularySize)) * sizeof(float);
        return (weightBytes, kvBytes, workspace);
    }

    /// <summary>
    /// 4-byte elements per row that sampling on the device holds (<see cref="Accelerator.SampleRows"/>): a row of
    /// weights and a copy of the raw logits for logprobs, grown on the first sampled step, and the row's
    /// choice, log-probabilities and top ids.
    /// </summary>
    private static long SamplingScratch(int vocabulary) => (2L * vocabulary) + 1 + Sampling.RowSampling.LogprobsPerRow + Sampling.RowSampling.MaxTopLogprobs;
}
