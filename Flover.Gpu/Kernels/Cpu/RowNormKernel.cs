using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>
/// A normalisation applied row by row (layer norm, RMS norm): chunks of whole rows spread over
/// workers, each row computed from its own values only, so its bits never depend on the batch or on
/// which worker ran it.
/// </summary>
internal abstract unsafe class RowNormKernel : IWorkerJob
{
    private float* _input;
    private float* _output;
    private int _rows;
    private int _rowsPerChunk;

    public int ChunkCount { get; private set; }

    /// <summary>Elements per row.</summary>
    protected int Width { get; private set; }

    public void Execute(int chunk, int worker)
    {
        int first = chunk * _rowsPerChunk;
        int end = Math.Min(first + _rowsPerChunk, _rows);
        for (int row = first; row < end; row++)
        {
            NormalizeRow(_input + ((long)row * Width), _output + ((long)row * Width));
        }
    }

    /// <summary>Sets the rows of the next run; the family's own parameters are set by its <c>Set</c>.</summary>
    protected void SetRows(float* input, float* output, int rows, int width, int rowsPerChunk)
    {
        _rowsPerChunk = rowsPerChunk;
        ChunkCount = (rows + rowsPerChunk - 1) / rowsPerChunk;
        _input = input;
        _output = output;
        _rows = rows;
        Width = width;
    }

    /// <summary>Writes the normalised <paramref name="x"/> (<see cref="Width"/> values) to <paramref name="y"/>.</summary>
    protected abstract void NormalizeRow(float* x, float* y);
}
