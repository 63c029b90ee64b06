using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Models;

/// <summary>
/// What every family's workspace holds: the device copies of a pass's staged rows (tokens,
/// positions, slots, the rows whose logits are wanted) and the ownership of every buffer the
/// family adds, all allocated once at start-up so a step allocates nothing.
/// </summary>
internal abstract class ModelWorkspace : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    /// <param name="accelerator">Where the buffers live.</param>
    /// <param name="rows">Rows per pass.</param>
    protected ModelWorkspace(Accelerator accelerator, int rows)
    {
        Rows = rows;
        Tokens = Ints(accelerator, rows);
        Positions = Ints(accelerator, rows);
        Slots = Ints(accelerator, rows);
        LogitRows = Ints(accelerator, rows);
    }

    public int Rows { get; }

    public ArrayView<int> Tokens { get; }

    public ArrayView<int> Positions { get; }

    public ArrayView<int> Slots { get; }

    /// <summary>Indices of the rows whose logits are wanted.</summary>
    public ArrayView<int> LogitRows { get; }

    /// <summary>Copies a pass's staged rows to the device.</summary>
    public void Upload(Accelerator accelerator, RowStager staged)
    {
        accelerator.CopyFromCpu(staged.Tokens, Tokens.SubView(0, staged.Rows));
        accelerator.CopyFromCpu(staged.Positions, Positions.SubView(0, staged.Rows));
        accelerator.CopyFromCpu(staged.Slots, Slots.SubView(0, staged.Rows));
        accelerator.CopyFromCpu(staged.LogitRows, LogitRows.SubView(0, staged.Wanted));
    }

    public void Dispose()
    {
        foreach (IDisposable item in _owned)
        {
            item.Dispose();
        }

        _owned.Clear();
    }

    /// <summary>A float buffer of <paramref name="length"/> elements, owned (and disposed) by the workspace.</summary>
    protected ArrayView<float> Floats(Accelerator accelerator, long length)
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
