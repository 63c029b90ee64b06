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

    // The four per-row arrays side by side, in one device buffer and one host staging array, so a pass
    // uploads them with one copy: on a GPU each copy is a synchronous transfer of a few microseconds
    // of host time, a cost per step that does not shrink with the model.
    private readonly ArrayView<int> _rowInputs;
    private readonly int[] _staging;

    /// <param name="accelerator">Where the buffers live.</param>
    /// <param name="rows">Rows per pass.</param>
    protected ModelWorkspace(Accelerator accelerator, int rows)
    {
        Rows = rows;
        _rowInputs = Ints(accelerator, 4L * rows);
        _staging = new int[4 * rows];
        Place(rows, rows);
    }

    public int Rows { get; }

    /// <summary>The pass's tokens (the views below are placed anew by each <see cref="Upload"/>).</summary>
    public ArrayView<int> Tokens { get; private set; }

    public ArrayView<int> Positions { get; private set; }

    public ArrayView<int> Slots { get; private set; }

    /// <summary>Indices of the rows whose logits are wanted.</summary>
    public ArrayView<int> LogitRows { get; private set; }

    /// <summary>
    /// Copies a pass's staged rows to the device in one transfer of exactly their values: the four
    /// arrays packed back to back for this pass's row count, the views placed to match.
    /// </summary>
    public void Upload(Accelerator accelerator, RowStager staged)
    {
        int rows = staged.Rows;
        Span<int> staging = _staging;
        staged.Tokens.CopyTo(staging);
        staged.Positions.CopyTo(staging[rows..]);
        staged.Slots.CopyTo(staging[(2 * rows)..]);
        staged.LogitRows.CopyTo(staging[(3 * rows)..]);
        int length = (3 * rows) + staged.Wanted;
        accelerator.CopyFromCpu<int>(staging[..length], _rowInputs.SubView(0, length));
        Place(rows, staged.Wanted);
    }

    private void Place(int rows, int wanted)
    {
        Tokens = _rowInputs.SubView(0, rows);
        Positions = _rowInputs.SubView(rows, rows);
        Slots = _rowInputs.SubView(2L * rows, rows);
        LogitRows = _rowInputs.SubView(3L * rows, wanted);
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
