using System.Runtime.Intrinsics;
using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>
/// RMS norm, chunks of rows spread over workers. Each row's sum of squares has one fixed order
/// (<see cref="VectorMath.Dot"/>: Vector256 lanes, lane sum, tail, whatever the machine's width), then
/// every element is scaled by plain multiplies, so a row's bits never depend on its neighbours.
/// </summary>
internal sealed unsafe class RmsNormKernel : RowNormKernel
{
    private float* _gain;
    private float _epsilon;

    public void Set(float* input, float* output, int rows, int width, float* gain, float epsilon, int rowsPerChunk)
    {
        SetRows(input, output, rows, width, rowsPerChunk);
        _gain = gain;
        _epsilon = epsilon;
    }

    protected override void NormalizeRow(float* x, float* y)
    {
        float inverse = 1f / MathF.Sqrt((VectorMath.Dot(x, x, Width) / Width) + _epsilon);
        Scale(x, _gain, inverse, y, Width);
    }

    /// <summary>
    /// <c>y[i] = gain[i] · (x[i] · inverse)</c>, Hugging Face's order (normalise, then scale by the gain).
    /// Two rounded multiplies per element in every path (no fused form exists for a product of
    /// three), so vector lanes of either width and the scalar tail give the same bits.
    /// </summary>
    internal static void Scale(float* x, float* gain, float inverse, float* y, int width)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> factor = Vector512.Create(inverse);
            for (; i + Vector512<float>.Count <= width; i += Vector512<float>.Count)
            {
                (Vector512.Load(gain + i) * (Vector512.Load(x + i) * factor)).Store(y + i);
            }
        }

        Vector256<float> factor256 = Vector256.Create(inverse);
        for (; i + Vector256<float>.Count <= width; i += Vector256<float>.Count)
        {
            (Vector256.Load(gain + i) * (Vector256.Load(x + i) * factor256)).Store(y + i);
        }

        for (; i < width; i++)
        {
            y[i] = gain[i] * (x[i] * inverse);
        }
    }
}

/// <summary>
/// Rotary embeddings in place on fused <c>[q | k | v]</c> rows, chunks of heads spread over workers.
/// Each (row, head) is rotated by its row's position alone, element by element, with the same
/// rounded multiplies and one add or subtract in every path, so neither the chunking nor the width
/// changes a bit.
/// </summary>
internal sealed unsafe class RotaryKernel : IWorkerJob
{
    /// <summary>
    /// The least work worth a chunk of its own, in rotated elements: ≈ 17 µs on one core (1.5·10¹⁰
    /// elements/s measured); see <see cref="SwiGluKernel.MinChunkElements"/> for why so many.
    /// With TinyLlama's 36 rotated heads of 64 that is 114 rows.
    /// </summary>
    public const int MinChunkElements = 262144;

    private float* _qkv;
    private int* _positions;
    private int _rotatedHeads;
    private int _rowWidth;
    private int _headSize;
    private float* _table;
    private long _items;
    private int _headsPerChunk;

    public int ChunkCount { get; private set; }

    /// <summary>Heads per chunk for <paramref name="heads"/> heads of <paramref name="headSize"/>: about four chunks per worker, none under <see cref="MinChunkElements"/> elements.</summary>
    public static int ChunkHeads(long heads, int headSize, int workerCount) =>
        (int)Math.Max(Math.Max(1, MinChunkElements / headSize), heads / (workerCount * 4));

    /// <exception cref="ArgumentOutOfRangeException">A position lies outside the table (checked before any row is rotated).</exception>
    public void Set(float* qkv, int rows, int* positions, int queryHeads, int kvHeads, int headSize, float* table, long tableLength, int headsPerChunk)
    {
        long tablePositions = tableLength / headSize;
        for (int row = 0; row < rows; row++)
        {
            // All rows first, on the calling thread: a bad position must fail the launch before any
            // worker has rotated a row in place, not leave the pass half rotated.
            if ((uint)positions[row] >= (ulong)tablePositions)
            {
                throw new ArgumentOutOfRangeException(nameof(positions), positions[row], $"Row {row}'s position lies outside the rotary table of {tablePositions} positions.");
            }
        }

        _qkv = qkv;
        _positions = positions;
        // Query heads then key heads, contiguous; the value heads after them are not rotated.
        _rotatedHeads = queryHeads + kvHeads;
        _rowWidth = (queryHeads + (2 * kvHeads)) * headSize;
        _headSize = headSize;
        _table = table;
        _items = (long)rows * _rotatedHeads;
        _headsPerChunk = headsPerChunk;
        ChunkCount = checked((int)((_items + headsPerChunk - 1) / headsPerChunk));
    }

    public void Execute(int chunk, int worker)
    {
        long first = (long)chunk * _headsPerChunk;
        long end = Math.Min(first + _headsPerChunk, _items);
        int half = _headSize / 2;
        // One division per chunk, then (row, head) steps along: a division per head cost as much as
        // the rotation of a 64-wide head.
        long row = first / _rotatedHeads;
        int head = (int)(first - (row * _rotatedHeads));
        float* x = _qkv + (row * _rowWidth) + ((long)head * _headSize);
        float* cos = _table + ((long)_positions[row] * _headSize);
        for (long item = first; item < end; item++)
        {
            Rotate(x, cos, cos + half, half);
            x += _headSize;
            if (++head == _rotatedHeads && item + 1 < end)
            {
                head = 0;
                row++;
                x = _qkv + (row * _rowWidth);
                cos = _table + ((long)_positions[row] * _headSize);
            }
        }
    }

    /// <summary>
    /// <c>x[i] ← x[i]·cos − x[i+half]·sin</c>, <c>x[i+half] ← x[i+half]·cos + x[i]·sin</c>: two
    /// rounded products and a rounded sum in every lane and in the tail (the JIT never contracts
    /// <c>a·b − c·d</c> into a fused multiply-add), bitwise the scalar formula.
    /// </summary>
    internal static void Rotate(float* x, float* cos, float* sin, int half)
    {
        float* y = x + half;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + Vector512<float>.Count <= half; i += Vector512<float>.Count)
            {
                Vector512<float> x1 = Vector512.Load(x + i), x2 = Vector512.Load(y + i), c = Vector512.Load(cos + i), s = Vector512.Load(sin + i);
                ((x1 * c) - (x2 * s)).Store(x + i);
                ((x2 * c) + (x1 * s)).Store(y + i);
            }
        }

        for (; i + Vector256<float>.Count <= half; i += Vector256<float>.Count)
        {
            Vector256<float> x1 = Vector256.Load(x + i), x2 = Vector256.Load(y + i), c = Vector256.Load(cos + i), s = Vector256.Load(sin + i);
            ((x1 * c) - (x2 * s)).Store(x + i);
            ((x2 * c) + (x1 * s)).Store(y + i);
        }

        for (; i < half; i++)
        {
            float x1 = x[i];
            float x2 = y[i];
            x[i] = (x1 * cos[i]) - (x2 * sin[i]);
            y[i] = (x2 * cos[i]) + (x1 * sin[i]);
        }
    }
}
