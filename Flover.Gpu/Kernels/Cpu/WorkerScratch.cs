namespace Flover.Gpu.Kernels.Cpu;

/// <summary>
/// One pinned float buffer per worker, grown to the largest size asked for. Kernels of a queued
/// sequence share it: a worker runs one chunk at a time, so its buffer is never used twice at once.
/// </summary>
internal sealed class WorkerScratch(int workerCount)
{
    private float[][] _buffers = [];

    /// <summary>The per-worker buffers, each at least <paramref name="size"/> floats (reallocated only to grow).</summary>
    public float[][] Ensure(long size)
    {
        if (_buffers.Length == 0 || _buffers[0].LongLength < size)
        {
            long grown = Math.Max(size, _buffers.Length == 0 ? 0 : _buffers[0].LongLength);
            var buffers = new float[workerCount][];
            for (int i = 0; i < workerCount; i++)
            {
                // Pinned, so kernels can hold a pointer without fixing it.
                buffers[i] = GC.AllocateUninitializedArray<float>(checked((int)grown), pinned: true);
            }

            _buffers = buffers;
        }

        return _buffers;
    }
}
