using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Models.Gpt2;

/// <summary>
/// Activation buffers for one forward pass of up to <see cref="Rows"/> rows, allocated once at start-up
/// so a step allocates nothing.
/// </summary>
internal sealed class Gpt2Workspace : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public Gpt2Workspace(Accelerator accelerator, Gpt2Config config, int rows)
    {
        Rows = rows;
        int e = config.EmbeddingSize;
        Residual = Floats(accelerator, (long)rows * e);
        Normed = Floats(accelerator, (long)rows * e);
        Qkv = Floats(accelerator, (long)rows * 3 * e);
        Attention = Floats(accelerator, (long)rows * e);
        Mlp = Floats(accelerator, (long)rows * config.InnerSize);
        Logits = Floats(accelerator, (long)rows * config.VocabularySize);
        Tokens = Ints(accelerator, rows);
        Positions = Ints(accelerator, rows);
        Slots = Ints(accelerator, rows);
        LogitRows = Ints(accelerator, rows);
    }

    public int Rows { get; }

    /// <summary>The residual stream x.</summary>
    public ArrayView<float> Residual { get; }

    /// <summary>Layer-norm output (the input of each projection).</summary>
    public ArrayView<float> Normed { get; }

    /// <summary>Fused [q | k | v] rows.</summary>
    public ArrayView<float> Qkv { get; }

    /// <summary>Attention output; also holds the final-norm rows before the LM head.</summary>
    public ArrayView<float> Attention { get; }

    /// <summary>MLP hidden rows after the activation.</summary>
    public ArrayView<float> Mlp { get; }

    /// <summary>LM-head output rows.</summary>
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
