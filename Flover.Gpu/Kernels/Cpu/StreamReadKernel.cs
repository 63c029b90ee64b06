using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>
/// Reads a buffer front to back and sums it: the read-only streaming bandwidth a memory-bound decode
/// step can hope for, measured with the same workers and SIMD width as the matmul. Four independent
/// accumulators keep the adds off the critical path, so the loads set the pace.
/// </summary>
internal sealed unsafe class StreamReadKernel : IWorkerJob
{
    /// <summary>Floats per chunk (4 MiB): big enough that claiming a chunk costs nothing, small enough to balance.</summary>
    private const int ChunkFloats = 1 << 20;

    private float* _data;
    private long _length;
    private float[] _sums = [];

    public int ChunkCount { get; private set; }

    /// <summary>The sum of the last run (kept so the reads cannot be optimised away).</summary>
    public float Sink { get; private set; }

    public void Set(float* data, long length, int workerCount)
    {
        _data = data;
        _length = length;
        ChunkCount = (int)((length + ChunkFloats - 1) / ChunkFloats);
        _sums = new float[Math.Max(ChunkCount, 1)];
    }

    public void Execute(int chunk, int worker)
    {
        long first = (long)chunk * ChunkFloats;
        long end = Math.Min(first + ChunkFloats, _length);
        _sums[chunk] = Sum(_data + first, end - first);
    }

    /// <summary>Adds the per-chunk sums (after the launch) into <see cref="Sink"/>.</summary>
    public void Collect() => Sink = _sums.Sum();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Sum(float* data, long count)
    {
        long i = 0;
        float total = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 64 <= count; i += 64)
            {
                a0 += Vector512.Load(data + i);
                a1 += Vector512.Load(data + i + 16);
                a2 += Vector512.Load(data + i + 32);
                a3 += Vector512.Load(data + i + 48);
            }

            total = Vector512.Sum(a0 + a1 + a2 + a3);
        }
        else
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 32 <= count; i += 32)
            {
                a0 += Vector256.Load(data + i);
                a1 += Vector256.Load(data + i + 8);
                a2 += Vector256.Load(data + i + 16);
                a3 += Vector256.Load(data + i + 24);
            }

            total = Vector256.Sum(a0 + a1 + a2 + a3);
        }

        for (; i < count; i++)
        {
            total += data[i];
        }

        return total;
    }
}
