using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Models.Llama;

/// <summary>Activation buffers for one forward pass of up to <see cref="ModelWorkspace.Rows"/> rows, allocated once so a step allocates nothing.</summary>
internal sealed class LlamaWorkspace : ModelWorkspace
{
    public LlamaWorkspace(Accelerator accelerator, LlamaConfig config, int rows)
        : base(accelerator, rows)
    {
        long e = config.HiddenSize;
        long attention = (long)config.HeadCount * config.HeadSize;
        Residual = Floats(accelerator, rows * e);
        Normed = Floats(accelerator, rows * Math.Max(e, attention));
        Qkv = Floats(accelerator, (long)rows * config.QkvSize);
        Attention = Floats(accelerator, rows * Math.Max(e, attention));
        GateUp = Floats(accelerator, rows * 2L * config.IntermediateSize);
        Mlp = Floats(accelerator, (long)rows * config.IntermediateSize);
        Logits = Floats(accelerator, (long)rows * config.VocabularySize);
    }

    /// <summary>The residual stream.</summary>
    public ArrayView<float> Residual { get; }

    /// <summary>RMS-norm output (the input of each projection); also the gathered rows before the final norm.</summary>
    public ArrayView<float> Normed { get; }

    /// <summary>Fused [q | k | v] rows (query heads, then key/value heads).</summary>
    public ArrayView<float> Qkv { get; }

    /// <summary>Attention output (query heads × head size); also the final-norm rows before the LM head.</summary>
    public ArrayView<float> Attention { get; }

    /// <summary>Fused [gate | up] rows.</summary>
    public ArrayView<float> GateUp { get; }

    /// <summary>SwiGLU output rows.</summary>
    public ArrayView<float> Mlp { get; }

    public ArrayView<float> Logits { get; }
}
