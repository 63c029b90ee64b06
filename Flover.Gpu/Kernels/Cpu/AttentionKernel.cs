using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>
/// Causal attention, one (row, head) pair at a time over that row's own slot: scores
/// <c>q·kⱼ/√d</c> for j = 0..position, softmax (max, then exp and sum in position order), then
/// <c>Σ pⱼ·vⱼ / Σ pⱼ</c> accumulated in position order. Pairs are spread over workers; each pair's
/// arithmetic is the same whoever runs it and whatever else is in the batch, and prefill rows go
/// through the very same code as decode rows. With grouped-query attention several query heads
/// share one key/value head; GPT-2 is the case of as many query heads as key/value heads. An F16 or
/// BF16 cache is read through the exact widening of its <see cref="IPanelFormat{TElement}"/> into the
/// very same FMA chains as F32, so its results are bitwise those of an F32 cache holding the widened values.
/// </summary>
internal sealed unsafe class AttentionKernel : IWorkerJob
{
    private float[][] _scores = [];
    private float* _qkv;
    private int _rows;
    private int* _slots;
    private int* _positions;
    private void* _cache;
    private KvCacheLayout _layout;
    private int _layer;
    private int _queryHeads;
    private float* _output;
    private int _itemsPerChunk;

    public int ChunkCount { get; private set; }

    public void Set(float* qkv, int rows, int queryHeads, int* slots, int* positions, void* cache, KvCacheLayout layout, int layer, float* output, int workerCount, int itemsPerChunk)
    {
        _itemsPerChunk = itemsPerChunk;
        ChunkCount = ((rows * queryHeads) + itemsPerChunk - 1) / itemsPerChunk;
        _queryHeads = queryHeads;
        _qkv = qkv;
        _rows = rows;
        _slots = slots;
        _positions = positions;
        _cache = cache;
        _layout = layout;
        _layer = layer;
        _output = output;
        if (_scores.Length != workerCount || _scores[0].Length < layout.SlotCapacity)
        {
            // Score scratch per worker, sized once per cache shape: no allocation per step.
            _scores = new float[workerCount][];
            for (int i = 0; i < workerCount; i++)
            {
                _scores[i] = new float[layout.SlotCapacity];
            }
        }
    }

    public void Execute(int chunk, int worker)
    {
        int heads = _queryHeads;
        int first = chunk * _itemsPerChunk;
        int end = Math.Min(first + _itemsPerChunk, _rows * heads);
        fixed (float* scores = _scores[worker])
        {
            for (int item = first; item < end; item++)
            {
                switch (_layout.ElementType)
                {
                    case TensorDType.F16:
                        // A cache row with no infinity or NaN (the rule: values written from finite
                        // activations below 65520) takes the four-instruction finite widening; one scan of
                        // the row's keys and values, already on their way into cache, decides.
                        if (HoldsNonFiniteHalves(item / heads, item % heads))
                        {
                            RowHead<ushort, F16Format>(item / heads, item % heads, scores);
                        }
                        else
                        {
                            RowHead<ushort, FiniteF16Format>(item / heads, item % heads, scores);
                        }

                        break;
                    case TensorDType.BF16:
                        RowHead<ushort, BF16Format>(item / heads, item % heads, scores);
                        break;
                    default:
                        RowHead<float, F32Format>(item / heads, item % heads, scores);
                        break;
                }
            }
        }
    }

    // q·k in a fixed order (Vector256 lanes, their sum, the scalar tail), the keys widened as they are loaded.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot<TElement, TFormat>(float* query, TElement* key, int length)
        where TElement : unmanaged
        where TFormat : IPanelFormat<TElement>
    {
        Vector256<float> accumulator = Vector256<float>.Zero;
        int i = 0;
        for (; i + Vector256<float>.Count <= length; i += Vector256<float>.Count)
        {
            accumulator = Vector256.FusedMultiplyAdd(Vector256.Load(query + i), TFormat.Widen8(key + i), accumulator);
        }

        float sum = Vector256.Sum(accumulator);
        for (; i < length; i++)
        {
            sum = MathF.FusedMultiplyAdd(query[i], TFormat.Widen1(key + i), sum);
        }

        return sum;
    }

    // Dot of one query with four consecutive keys (length a multiple of 8), each key's lanes, sum and order as in Dot.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4<TElement, TFormat>(float* query, TElement* key, int length, float* results)
        where TElement : unmanaged
        where TFormat : IPanelFormat<TElement>
    {
        Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero, a2 = Vector256<float>.Zero, a3 = Vector256<float>.Zero;
        TElement* k1 = key + length;
        TElement* k2 = k1 + length;
        TElement* k3 = k2 + length;
        for (int i = 0; i < length; i += Vector256<float>.Count)
        {
            Vector256<float> q = Vector256.Load(query + i);
            a0 = Vector256.FusedMultiplyAdd(q, TFormat.Widen8(key + i), a0);
            a1 = Vector256.FusedMultiplyAdd(q, TFormat.Widen8(k1 + i), a1);
            a2 = Vector256.FusedMultiplyAdd(q, TFormat.Widen8(k2 + i), a2);
            a3 = Vector256.FusedMultiplyAdd(q, TFormat.Widen8(k3 + i), a3);
        }

        results[0] = Vector256.Sum(a0);
        results[1] = Vector256.Sum(a1);
        results[2] = Vector256.Sum(a2);
        results[3] = Vector256.Sum(a3);
    }

    // destination += scale · v element-wise, the values widened as they are loaded.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyAdd<TElement, TFormat>(float* destination, TElement* source, float scale, int length)
        where TElement : unmanaged
        where TFormat : IPanelFormat<TElement>
    {
        Vector256<float> factor = Vector256.Create(scale);
        int i = 0;
        for (; i + Vector256<float>.Count <= length; i += Vector256<float>.Count)
        {
            Vector256.Store(Vector256.FusedMultiplyAdd(TFormat.Widen8(source + i), factor, Vector256.Load(destination + i)), destination + i);
        }

        for (; i < length; i++)
        {
            destination[i] = MathF.FusedMultiplyAdd(TFormat.Widen1(source + i), scale, destination[i]);
        }
    }

    // destination += Σ scaleₘ · vₘ for four consecutive values, added in order m = 0..3 as four
    // MultiplyAdd calls would, but with the destination held in a register between them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyAdd4<TElement, TFormat>(float* destination, TElement* source, float* scales, int length)
        where TElement : unmanaged
        where TFormat : IPanelFormat<TElement>
    {
        Vector256<float> f0 = Vector256.Create(scales[0]), f1 = Vector256.Create(scales[1]);
        Vector256<float> f2 = Vector256.Create(scales[2]), f3 = Vector256.Create(scales[3]);
        TElement* s1 = source + length;
        TElement* s2 = s1 + length;
        TElement* s3 = s2 + length;
        for (int i = 0; i < length; i += Vector256<float>.Count)
        {
            Vector256<float> sum = Vector256.FusedMultiplyAdd(TFormat.Widen8(source + i), f0, Vector256.Load(destination + i));
            sum = Vector256.FusedMultiplyAdd(TFormat.Widen8(s1 + i), f1, sum);
            sum = Vector256.FusedMultiplyAdd(TFormat.Widen8(s2 + i), f2, sum);
            Vector256.Store(Vector256.FusedMultiplyAdd(TFormat.Widen8(s3 + i), f3, sum), destination + i);
        }
    }

    private bool HoldsNonFiniteHalves(int row, int head)
    {
        int kvHead = head / (_queryHeads / _layout.HeadCount);
        int slot = _slots[row];
        long count = (long)(_positions[row] + 1) * _layout.HeadSize;
        return HalfWidening.AnyNonFiniteF16((ushort*)_cache + _layout.Offset(slot, _layer, 0, kvHead, 0), count)
            || HalfWidening.AnyNonFiniteF16((ushort*)_cache + _layout.Offset(slot, _layer, 1, kvHead, 0), count);
    }

    private void RowHead<TElement, TFormat>(int row, int head, float* scores)
        where TElement : unmanaged
        where TFormat : IPanelFormat<TElement>
    {
        int size = _layout.HeadSize;
        int width = _queryHeads * size;
        int rowWidth = (_queryHeads + (2 * _layout.HeadCount)) * size;
        int kvHead = head / (_queryHeads / _layout.HeadCount);
        int slot = _slots[row];
        int position = _positions[row];
        float* query = _qkv + ((long)row * rowWidth) + (head * size);
        TElement* keys = (TElement*)_cache + _layout.Offset(slot, _layer, 0, kvHead, 0);
        TElement* values = (TElement*)_cache + _layout.Offset(slot, _layer, 1, kvHead, 0);
        float scale = 1f / MathF.Sqrt(size);

        int j = 0;
        if (size % Vector256<float>.Count == 0)
        {
            // Four keys at a time: four independent FMA chains hide each other's latency, and every
            // key's own chain is the one Dot runs, so the scores are bitwise the same.
            for (; j + 3 <= position; j += 4)
            {
                Dot4<TElement, TFormat>(query, keys + ((long)j * size), size, scores + j);
            }
        }

        for (; j <= position; j++)
        {
            scores[j] = Dot<TElement, TFormat>(query, keys + ((long)j * size), size);
        }

        float max = float.NegativeInfinity;
        for (j = 0; j <= position; j++)
        {
            float score = scores[j] * scale;
            scores[j] = score;
            max = MathF.Max(max, score);
        }

        float sum = 0f;
        for (j = 0; j <= position; j++)
        {
            float weight = MathF.Exp(scores[j] - max);
            scores[j] = weight;
            sum += weight;
        }

        float* output = _output + ((long)row * width) + (head * size);
        new Span<float>(output, size).Clear();
        j = 0;
        if (size % Vector256<float>.Count == 0)
        {
            for (; j + 3 <= position; j += 4)
            {
                MultiplyAdd4<TElement, TFormat>(output, values + ((long)j * size), scores + j, size);
            }
        }

        for (; j <= position; j++)
        {
            MultiplyAdd<TElement, TFormat>(output, values + ((long)j * size), scores[j], size);
        }

        float inverse = 1f / sum;
        for (int d = 0; d < size; d++)
        {
            output[d] *= inverse;
        }
    }
}
