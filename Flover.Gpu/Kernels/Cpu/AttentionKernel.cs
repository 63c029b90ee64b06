using Flover.Gpu.Accelerators;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>
/// Causal attention, one (row, head) pair at a time over that row's own slot: scores
/// <c>q·kⱼ/√d</c> for j = 0..position, softmax (max, then exp and sum in position order), then
/// <c>Σ pⱼ·vⱼ / Σ pⱼ</c> accumulated in position order. Pairs are spread over workers; each pair's
/// arithmetic is the same whoever runs it and whatever else is in the batch, and prefill rows go
/// through the very same code as decode rows.
/// </summary>
internal sealed unsafe class AttentionKernel : IRestartableJob
{
    private float[][] _scores = [];
    private float[][] _staging = [];
    private float* _qkv;
    private int _rows;
    private int* _slots;
    private int* _positions;
    private float* _cache;
    private KvCacheLayout _layout;
    private int _layer;
    private float* _output;
    private int _itemsPerChunk;

    public int ChunkCount { get; private set; }

    public void Set(float* qkv, int rows, int* slots, int* positions, float* cache, KvCacheLayout layout, int layer, float* output, WorkerScratch scratch, WorkerScratch staging, int itemsPerChunk)
    {
        _itemsPerChunk = itemsPerChunk;
        ChunkCount = ((rows * layout.HeadCount) + itemsPerChunk - 1) / itemsPerChunk;
        _qkv = qkv;
        _rows = rows;
        _slots = slots;
        _positions = positions;
        _cache = cache;
        _layout = layout;
        _layer = layer;
        _output = output;
        // Score scratch per worker, shared by every queued attention and sized once per cache shape.
        _scores = scratch.Ensure(layout.SlotCapacity);
        Restartable = rows <= MatMulKernel.RestartableRows;
        if (Restartable)
        {
            _staging = staging.Ensure((long)itemsPerChunk * layout.HeadSize);
        }
    }

    /// <summary>Whether chunks are computed into staging and committed separately (few rows).</summary>
    public bool Restartable { get; private set; }

    public void Execute(int chunk, int worker) => Run(chunk, worker, staged: false);

    public void Compute(int chunk, int worker) => Run(chunk, worker, staged: true);

    public void Commit(int chunk, int worker)
    {
        int heads = _layout.HeadCount;
        int size = _layout.HeadSize;
        int first = chunk * _itemsPerChunk;
        int end = Math.Min(first + _itemsPerChunk, _rows * heads);
        fixed (float* staging = _staging[worker])
        {
            for (int item = first; item < end; item++)
            {
                float* output = _output + ((long)(item / heads) * heads * size) + ((item % heads) * size);
                Buffer.MemoryCopy(staging + ((long)(item - first) * size), output, size * sizeof(float), size * sizeof(float));
            }
        }
    }

    private void Run(int chunk, int worker, bool staged)
    {
        int heads = _layout.HeadCount;
        int size = _layout.HeadSize;
        int first = chunk * _itemsPerChunk;
        int end = Math.Min(first + _itemsPerChunk, _rows * heads);
        fixed (float* scores = _scores[worker])
        fixed (float* staging = staged ? _staging[worker] : null)
        {
            for (int item = first; item < end; item++)
            {
                int row = item / heads;
                int head = item % heads;
                float* output = staged ? staging + ((long)(item - first) * size) : _output + ((long)row * heads * size) + (head * size);
                RowHead(row, head, scores, output);
            }
        }
    }

    private void RowHead(int row, int head, float* scores, float* output)
    {
        int size = _layout.HeadSize;
        int width = _layout.HeadCount * size;
        int slot = _slots[row];
        int position = _positions[row];
        float* query = _qkv + ((long)row * 3 * width) + (head * size);
        float* keys = _cache + _layout.Offset(slot, _layer, 0, head, 0);
        float* values = _cache + _layout.Offset(slot, _layer, 1, head, 0);
        float scale = 1f / MathF.Sqrt(size);

        float max = float.NegativeInfinity;
        for (int j = 0; j <= position; j++)
        {
            float score = VectorMath.Dot(query, keys + ((long)j * size), size) * scale;
            scores[j] = score;
            max = MathF.Max(max, score);
        }

        float sum = 0f;
        for (int j = 0; j <= position; j++)
        {
            float weight = MathF.Exp(scores[j] - max);
            scores[j] = weight;
            sum += weight;
        }

        new Span<float>(output, size).Clear();
        for (int j = 0; j <= position; j++)
        {
            VectorMath.MultiplyAdd(output, values + ((long)j * size), scores[j], size);
        }

        float inverse = 1f / sum;
        for (int d = 0; d < size; d++)
        {
            output[d] *= inverse;
        }
    }
}
