using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Models.Llama;

/// <summary>Activation buffers for one forward pass of up to <see cref="Rows"/> rows, allocated once so a step allocates nothing.</summary>
internal sealed class LlamaWorkspace : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public LlamaWorkspace(Accelerator accelerator, LlamaConfig config, int rows)
    {
        Rows = rows;
        long e = config.HiddenSize;
        long attention = (long)config.HeadCount * config.HeadSize;
        Residual = Floats(accelerator, rows * e);
        Normed = Floats(accelerator, rows * Math.Max(e, attention));
        Qkv = Floats(accelerator, (long)rows * config.QkvSize);
        Attention = Floats(accelerator, rows * Math.Max(e, attention));
        GateUp = Floats(accelerator, rows * 2L * config.IntermediateSize);
        Mlp = Floats(accelerator, (long)rows * config.IntermediateSize);
        Logits = Floats(accelerator, (long)rows * config.VocabularySize);
        Tokens = Ints(accelerator, rows);
        Positions = Ints(accelerator, rows);
        Slots = Ints(accelerator, rows);
        LogitRows = Ints(accelerator, rows);
    }

    public int Rows { get; }

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

    public ArrayView<int> Tokens { get; }

    public ArrayView<int> Positions { get; }

    public ArrayView<int> Slots { get; }

    /// <summary>Indices of the rows whose logits are wanted.</summary>
    public ArrayView<int> LogitRows { get; }

    public void Dispose()
    {
        foreach (IDisposable item in _owned)
        {
            item.Dispose();
        }

        _owned.Clear();
    }

    private ArrayView<float> Floats(Accelerator accelerator, long length)
    {
        MemoryBuffer<float> buffer = accelerator.Allocate<float>(length);
        _owned.Add(buffer);
        return buffer.View;
    }

    private ArrayView<int> Ints(Accelerator accelerator, long length)
    {
        MemoryBuffer<int> buffer = accelerator.Allocate<int>(length);
        _owned.Add(buffer);
        return buffer.View;
    }
}
