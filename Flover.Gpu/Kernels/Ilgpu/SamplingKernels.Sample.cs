using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>
/// Sampling on the device, a group per row, with no sort: every set the host sampler walks in order
/// (top-k, the nucleus, the inverse-CDF pick) is found by a search on a rank key. A token's key orders
/// as the host's walk does: by value then lower index (top-k and top-p), or by index alone (plain
/// sampling). Then "the k best", "the smallest prefix whose weight reaches p" and "the first token
/// whose cumulative weight exceeds the target" are each the greatest key K at which a count or weight
/// of the keys ≥ K still passes: the count a byte per pass (<see cref="KthKey"/>), the weights four
/// bits per pass (<see cref="Descend"/>), over the whole row or, after top-k, over the k candidates alone.
/// Weights are the host's float MathF.Exp((v − max) / T); sums are in double as on the host, in the
/// group's fixed order instead of the host's sequential one.
/// </summary>
internal static partial class SamplingKernels
{
    /// <summary>One group per row (<c>Grid.IdxX</c>), groups of a power-of-two size up to <see cref="NormKernels.MaxGroupSize"/>.</summary>
    public static void Sample(SampleArgs a)
    {
        // Descend's 15 sums per thread (30 KiB); the reductions use the first group-size of them.
        ArrayView<double> sums = SharedMemory.Allocate<double>(DescendCandidates * NormKernels.MaxGroupSize);
        ArrayView<long> longs = SharedMemory.Allocate<long>(NormKernels.MaxGroupSize);
        ArrayView<int> histogram = SharedMemory.Allocate<int>(256);
        int row = Grid.IdxX;
        SamplingRow p = a.Rows[row];
        int n = p.Candidates;
        if (n == 0)
        {
            return;
        }

        int t = Group.IdxX;
        int size = Group.DimX;
        long start = (long)row * a.RowWidth;
        ArrayView<float> values = a.Logits.SubView(start, n);
        ArrayView<float> weights = a.Weights.SubView(start, n);

        // The raw logits' first NaN fails the row, as the host checks before anything else.
        long firstNaN = long.MaxValue;
        for (int i = t; i < n; i += size)
        {
            firstNaN = float.IsNaN(values[i]) && i < firstNaN ? i : firstNaN;
        }

        firstNaN = GroupReduce.Min(firstNaN, longs);
        if (firstNaN != long.MaxValue)
        {
            Finish(a, row, -2 - (int)firstNaN);
            return;
        }

        int indexBits = 1;
        while ((1 << indexBits) < n)
        {
            indexBits++;
        }

        double logNormalizer = p.Logprobs >= 0 ? TopLogprobs(a, p, row, values, indexBits, sums, longs) : 0;

        // At most one edit per token, so the edits may run in parallel.
        for (int e = t; e < p.EditCount; e += size)
        {
            DeviceLogitEdit edit = a.Edits[p.EditStart + e];
            values[edit.Token] = Apply(edit, values[edit.Token]);
        }

        Group.Barrier();
        int choice = Choose(p, values, weights, indexBits, sums, longs, histogram);
        Finish(a, row, choice);
        if (p.Logprobs >= 0 && choice >= 0 && t == 0)
        {
            a.Logprobs[(long)row * Sampling.RowSampling.LogprobsPerRow] = (float)(a.Raw[start + choice] - logNormalizer);
        }
    }

    /// <summary>
    /// The host's log-probabilities from the raw logits (before any edit): ln of the softmax at
    /// temperature 1 as max + ln Σ exp(v − max) in double, and the top alternatives by value then
    /// index, one group reduction each. Keeps the raw row for the chosen token's; returns the log-normalizer.
    /// </summary>
    private static double TopLogprobs(SampleArgs a, SamplingRow p, int row, ArrayView<float> values, int indexBits, ArrayView<double> sums, ArrayView<long> longs)
    {
        int t = Group.IdxX;
        int size = Group.DimX;
        int n = p.Candidates;
        ArrayView<float> raw = a.Raw.SubView((long)row * a.RowWidth, n);
        float max = float.NegativeInfinity;
        for (int i = t; i < n; i += size)
        {
            raw[i] = values[i];
            max = values[i] > max ? values[i] : max;
        }

        max = GroupReduce.Max(max, sums);
        double sum = 0;
        for (int i = t; i < n; i += size)
        {
            sum += Math.Exp((double)values[i] - max);
        }

        double logNormalizer = max + Math.Log(GroupReduce.Sum(sum, sums));
        long mask = (1L << indexBits) - 1;
        long previous = long.MaxValue;
        int alternatives = p.Logprobs < n ? p.Logprobs : n;
        for (int j = 0; j < alternatives; j++)
        {
            long best = -1;
            for (int i = t; i < n; i += size)
            {
                long key = Key(values[i], i, ranked: true, indexBits);
                best = key < previous && key > best ? key : best;
            }

            previous = GroupReduce.Max(best, longs);
            if (t == 0)
            {
                int token = (int)(mask - (previous & mask));
                a.TopIds[((long)row * Sampling.RowSampling.MaxTopLogprobs) + j] = token;
                a.Logprobs[((long)row * Sampling.RowSampling.LogprobsPerRow) + 1 + j] = (float)(raw[token] - logNormalizer);
            }
        }

        return logNormalizer;
    }

    /// <summary>The choice on the edited values: −1 when all are banned, greedy at temperature 0, else <see cref="Draw"/>.</summary>
    private static int Choose(SamplingRow p, ArrayView<float> values, ArrayView<float> weights, int indexBits, ArrayView<double> sums, ArrayView<long> longs, ArrayView<int> histogram)
    {
        int t = Group.IdxX;
        int size = Group.DimX;
        int n = p.Candidates;
        float max = float.NegativeInfinity;
        for (int i = t; i < n; i += size)
        {
            max = values[i] > max ? values[i] : max;
        }

        max = GroupReduce.Max(max, sums);
        if (max == float.NegativeInfinity)
        {
            return -1;
        }

        if (p.Temperature == 0)
        {
            long first = long.MaxValue;
            for (int i = t; i < n; i += size)
            {
                first = values[i] == max && i < first ? i : first;
            }

            return (int)GroupReduce.Min(first, longs);
        }

        return Draw(p, values, weights, max, indexBits, sums, longs, histogram);
    }

    /// <summary>
    /// A token's place in the host's walk as a non-negative integer, greater first: its value's order
    /// bits (−0 as +0, which the host ranks equal) above its index reversed; or its index reversed alone.
    /// </summary>
    private static long Key(float value, int index, bool ranked, int indexBits)
    {
        long order = ((1L << indexBits) - 1) - index;
        if (!ranked)
        {
            return order;
        }

        uint bits = Interop.FloatAsInt(value);
        bits = (bits & 0x7FFFFFFFu) == 0 ? 0 : bits;
        uint key = (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
        return ((long)key << indexBits) | order;
    }

    /// <summary>The host's logit processors on one token, step by step in its order.</summary>
    private static float Apply(DeviceLogitEdit edit, float value)
    {
        if ((edit.Kinds & 1) != 0)
        {
            value = value > 0 ? value / edit.RepetitionPenalty : value * edit.RepetitionPenalty;
        }

        if ((edit.Kinds & 2) != 0)
        {
            value -= edit.Subtract;
        }

        if ((edit.Kinds & 4) != 0)
        {
            value += edit.Bias;
        }

        return (edit.Kinds & 8) != 0 ? float.NegativeInfinity : value;
    }

    private static void Finish(SampleArgs a, int row, int choice)
    {
        if (Group.IdxX == 0)
        {
            a.Output[row] = choice;
        }
    }
}
