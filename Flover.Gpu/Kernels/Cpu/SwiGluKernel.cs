using System.Runtime.Intrinsics;
using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>
/// SwiGLU of fused <c>[gate | up]</c> rows, <c>y = silu(gate) · up</c>, in chunks of elements spread
/// over workers. A chunk is a run of the flattened <c>rows × width</c> outputs and may start or end
/// anywhere in a row: every output is the same lane-wise function of its own gate and up values
/// (<see cref="VectorSilu"/>, then one multiply), so neither the chunking, the row count nor the
/// worker that runs it can change a bit.
/// </summary>
internal sealed unsafe class SwiGluKernel : IWorkerJob
{
    /// <summary>
    /// The least work worth a chunk of its own: ≈ 25 µs of SiLU on one core (2.6·10⁹ elements/s
    /// measured). Waking a blocked worker costs tens of µs, and on a loaded machine a worker that
    /// claimed a chunk can be descheduled with it, so smaller chunks measured slower than none.
    /// Decode at batch 1 (one row of a few thousand) stays on the calling thread.
    /// </summary>
    public const int MinChunkElements = 65536;

    private float* _gateUp;
    private float* _output;
    private int _width;
    private long _length;
    private long _elementsPerChunk;

    public int ChunkCount { get; private set; }

    /// <summary>Elements per chunk for <paramref name="length"/> outputs: about four chunks per worker, none under <see cref="MinChunkElements"/>, a multiple of 64.</summary>
    public static long ChunkElements(long length, int workerCount) =>
        (Math.Max(MinChunkElements, length / (workerCount * 4)) + 63) & ~63L;

    public void Set(float* gateUp, int rows, int width, float* output, long elementsPerChunk)
    {
        _gateUp = gateUp;
        _output = output;
        _width = width;
        _length = (long)rows * width;
        _elementsPerChunk = elementsPerChunk;
        ChunkCount = checked((int)((_length + elementsPerChunk - 1) / elementsPerChunk));
    }

    public void Execute(int chunk, int worker)
    {
        long first = chunk * _elementsPerChunk;
        long end = Math.Min(first + _elementsPerChunk, _length);
        while (first < end)
        {
            // One row's segment at a time: outputs are [rows, width], inputs [rows, 2 · width].
            long row = first / _width;
            int column = (int)(first - (row * _width));
            int count = (int)Math.Min(end - first, _width - column);
            float* gate = _gateUp + (row * 2 * _width) + column;
            Row(gate, gate + _width, _output + first, count);
            first += count;
        }
    }

    /// <summary><c>y[i] = silu(gate[i]) · up[i]</c> for <paramref name="count"/> elements.</summary>
    internal static void Row(float* gate, float* up, float* y, int count)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + Vector512<float>.Count <= count; i += Vector512<float>.Count)
            {
                (VectorSilu.Silu(Vector512.Load(gate + i)) * Vector512.Load(up + i)).Store(y + i);
            }
        }

        for (; i + Vector256<float>.Count <= count; i += Vector256<float>.Count)
        {
            (VectorSilu.Silu(Vector256.Load(gate + i)) * Vector256.Load(up + i)).Store(y + i);
        }

        if (i < count)
        {
            // The tail through the same Vector256 operations on a zero-padded copy, not a scalar
            // formula: an element's bits must not depend on whether it falls in the tail.
            int tail = count - i;
            float* g = stackalloc float[Vector256<float>.Count];
            float* u = stackalloc float[Vector256<float>.Count];
            float* result = stackalloc float[Vector256<float>.Count];
            new Span<float>(g, Vector256<float>.Count).Clear();
            new Span<float>(u, Vector256<float>.Count).Clear();
            long bytes = tail * sizeof(float);
            Buffer.MemoryCopy(gate + i, g, bytes, bytes);
            Buffer.MemoryCopy(up + i, u, bytes, bytes);
            (VectorSilu.Silu(Vector256.Load(g)) * Vector256.Load(u)).Store(result);
            Buffer.MemoryCopy(result, y + i, bytes, bytes);
        }
    }
}
