using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>
/// The KV pool's shape and one step's per-row slots and positions, as the device kernels see them:
/// <c>[slot][layer][k|v][head][position][dim]</c> (see <c>KvCacheLayout</c>).
/// </summary>
internal struct KvArgs
{
    public ArrayView<float> Qkv;
    public ArrayView<int> Slots;
    public ArrayView<int> Positions;
    /// <summary>The pool: F32 values or F16/BF16 bits, widened exactly when read.</summary>
    public WeightView Cache;

    /// <summary>Scores, then softmax weights: [row][head][position] (attention only).</summary>
    public ArrayView<float> Scores;

    /// <summary>Per (row, head): the softmax denominator (attention only).</summary>
    public ArrayView<float> Sums;
    public ArrayView<float> Output;
    public int SlotCount;

    /// <summary>Key/value heads (the cache's).</summary>
    public int HeadCount;

    /// <summary>Query heads: <see cref="HeadCount"/> for GPT-2, a multiple of it with grouped-query attention.</summary>
    public int QueryHeads;
    public int SlotCapacity;
    public int HeadSize;
    public int Layer;
    public long SlotStride;
    public long LayerStride;
    public long KvStride;
    public float Scale;

    /// <summary>The first key element of <paramref name="head"/> in <paramref name="slot"/> at this layer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly long KeyOffset(int slot, int head) =>
        (slot * SlotStride) + (Layer * LayerStride) + ((long)head * SlotCapacity * HeadSize);

    /// <summary>Elements of one fused <c>[q | k | v]</c> row.</summary>
    public readonly long RowWidth => (long)(QueryHeads + (2 * HeadCount)) * HeadSize;

    /// <summary>The key/value head query head <paramref name="head"/> attends (itself when there are as many).</summary>
    public readonly int KvHeadOf(int head) => head / (QueryHeads / HeadCount);
}

/// <summary>
/// Causal attention of each row over its own slot with fixed orders, so a row's bits depend only on
/// its own query, slot contents and position: scores (one thread per key), softmax (one thread per
/// row and head: max, then exp and sum in position order), and the weighted sum of values (one
/// thread per output element, in position order, then · 1/Σ). <see cref="Fused"/> runs the three
/// phases in one launch, a group per (row, head), with the very same arithmetic per element; the
/// three separate kernels stay as its reference.
/// </summary>
internal static class AttentionKernels
{
    /// <summary><c>scores[r, h, j] = q·kⱼ · scale</c> for j ≤ position. Index: (j, h, r).</summary>
    public static void Scores(Index3D index, KvArgs a)
    {
        int j = index.X;
        int head = index.Y;
        int row = index.Z;
        int slot = a.Slots[row];
        int position = a.Positions[row];
        if (j > position || (uint)slot >= (uint)a.SlotCount || (uint)position >= (uint)a.SlotCapacity)
        {
            return;
        }

        long query = ((long)row * a.RowWidth) + ((long)head * a.HeadSize);
        long key = a.KeyOffset(slot, a.KvHeadOf(head)) + ((long)j * a.HeadSize);
        a.Scores[(((long)row * a.QueryHeads) + head) * a.SlotCapacity + j] = Score(a, query, key);
    }

    /// <summary>
    /// <see cref="Scores"/>, <see cref="Softmax"/> and <see cref="Combine"/> in one launch: group
    /// <c>Grid.IdxX = row · QueryHeads + head</c>, any group size. Its threads take the keys in strides,
    /// then thread 0 runs the softmax in position order, then its threads take the output elements;
    /// group barriers order the phases (the scores and the sum go through the same global scratch as
    /// the separate kernels, visible to the group after a barrier). Saves two launches per layer, the
    /// host's 4-5 µs each on CUDA.
    /// </summary>
    public static void Fused(KvArgs a)
    {
        int t = Group.IdxX;
        int size = Group.DimX;
        int head = Grid.IdxX % a.QueryHeads;
        int row = Grid.IdxX / a.QueryHeads;
        int slot = a.Slots[row];
        int position = a.Positions[row];
        long output = ((long)row * a.QueryHeads * a.HeadSize) + ((long)head * a.HeadSize);
        if ((uint)slot >= (uint)a.SlotCount || (uint)position >= (uint)a.SlotCapacity)
        {
            // The whole group leaves here (slot and position are the row's), so no barrier is skipped by part of it.
            for (int d = t; d < a.HeadSize; d += size)
            {
                a.Output[output + d] = 0f;
            }

            return;
        }

        long query = ((long)row * a.RowWidth) + ((long)head * a.HeadSize);
        long keys = a.KeyOffset(slot, a.KvHeadOf(head));
        long scores = (((long)row * a.QueryHeads) + head) * a.SlotCapacity;
        for (int j = t; j <= position; j += size)
        {
            a.Scores[scores + j] = Score(a, query, keys + ((long)j * a.HeadSize));
        }

        Group.Barrier();
        if (t == 0)
        {
            a.Sums[((long)row * a.QueryHeads) + head] = SoftmaxInPlace(a, scores, position);
        }

        Group.Barrier();
        long values = keys + a.KvStride;
        float inverse = 1f / a.Sums[((long)row * a.QueryHeads) + head];
        for (int d = t; d < a.HeadSize; d += size)
        {
            a.Output[output + d] = WeightedSum(a, scores, values + d, position) * inverse;
        }
    }

    /// <summary>Turns a row's scores for one head into <c>exp(s − max)</c> and stores their sum. Index: (h, r).</summary>
    public static void Softmax(Index2D index, KvArgs a)
    {
        int head = index.X;
        int row = index.Y;
        int position = a.Positions[row];
        if ((uint)a.Slots[row] >= (uint)a.SlotCount || (uint)position >= (uint)a.SlotCapacity)
        {
            return;
        }

        a.Sums[((long)row * a.QueryHeads) + head] = SoftmaxInPlace(a, (((long)row * a.QueryHeads) + head) * a.SlotCapacity, position);
    }

    /// <summary><c>out[r, h, d] = (Σⱼ pⱼ · vⱼ[d]) · 1/Σⱼ pⱼ</c>, j in position order. Index: (d, h, r).</summary>
    public static void Combine(Index3D index, KvArgs a)
    {
        int d = index.X;
        int head = index.Y;
        int row = index.Z;
        int slot = a.Slots[row];
        int position = a.Positions[row];
        long at = ((long)row * a.QueryHeads * a.HeadSize) + ((long)head * a.HeadSize) + d;
        if ((uint)slot >= (uint)a.SlotCount || (uint)position >= (uint)a.SlotCapacity)
        {
            a.Output[at] = 0f;
            return;
        }

        long weights = (((long)row * a.QueryHeads) + head) * a.SlotCapacity;
        long value = a.KeyOffset(slot, a.KvHeadOf(head)) + a.KvStride + d;
        a.Output[at] = WeightedSum(a, weights, value, position) * (1f / a.Sums[((long)row * a.QueryHeads) + head]);
    }

    /// <summary><c>q·k · scale</c>, over d in index order.</summary>
    private static float Score(KvArgs a, long query, long key)
    {
        float dot = 0f;
        for (int d = 0; d < a.HeadSize; d++)
        {
            dot += a.Qkv[query + d] * a.Cache.Load(key + d);
        }

        return dot * a.Scale;
    }

    /// <summary>Scores at <paramref name="start"/> for positions 0..<paramref name="position"/> become <c>exp(s − max)</c>; returns their sum, in position order.</summary>
    private static float SoftmaxInPlace(KvArgs a, long start, int position)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j <= position; j++)
        {
            max = XMath.Max(max, a.Scores[start + j]);
        }

        float sum = 0f;
        for (int j = 0; j <= position; j++)
        {
            float weight = XMath.Exp(a.Scores[start + j] - max);
            a.Scores[start + j] = weight;
            sum += weight;
        }

        return sum;
    }

    /// <summary><c>Σⱼ pⱼ · vⱼ[d]</c> in position order, <paramref name="value"/> the element's offset at position 0.</summary>
    private static float WeightedSum(KvArgs a, long weights, long value, int position)
    {
        float sum = 0f;
        for (int j = 0; j <= position; j++)
        {
            sum += a.Scores[weights + j] * a.Cache.Load(value + ((long)j * a.HeadSize));
        }

        return sum;
    }
}
