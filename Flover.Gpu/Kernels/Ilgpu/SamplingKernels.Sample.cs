using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>
/// Sampling on the device, a group per row, with no sort: every set the host sampler walks in order
/// (top-k, the nucleus, the inverse-CDF pick) is found by a bitwise descent on a rank key, one pass
/// over the row and one group reduction per key bit. A token's key orders as the host's walk does:
/// by value then lower index (top-k and top-p), or by index alone (plain sampling). Then "the k best",
/// "the smallest prefix whose weight reaches p" and "the first token whose cumulative weight exceeds
/// the target" are each the greatest key K at which a count or weight of the keys ≥ K still passes.
/// Weights are the host's float MathF.Exp((v − max) / T); sums are in double as on the host, in the
/// group's fixed order instead of the host's sequential one.
/// </summary>
internal static partial class SamplingKernels
{
    /// <summary>One group per row (<c>Grid.IdxX</c>), groups of a power-of-two size up to <see cref="NormKernels.MaxGroupSize"/>.</summary>
    public static void Sample(SampleArgs a)
    {
        ArrayView<double> sums = SharedMemory.Allocate<double>(NormKernels.MaxGroupSize);
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

    /// <summary>Temperature, top-k, top-p and the pick, as the host sampler's Draw.</summary>
    private static int Draw(SamplingRow p, ArrayView<float> values, ArrayView<float> weights, float max, int indexBits, ArrayView<double> sums, ArrayView<long> longs, ArrayView<int> histogram)
    {
        int t = Group.IdxX;
        int size = Group.DimX;
        int n = p.Candidates;
        float inverseTemperature = 1f / p.Temperature;
        bool ranked = p.TopK > 0 || p.TopP < 1f;

        int keyBits = ranked ? 32 + indexBits : indexBits;
        long lowest = 0;
        if (p.TopK > 0 && p.TopK < n)
        {
            lowest = KthKey(values, n, indexBits, keyBits, p.TopK, longs, histogram);
        }

        // Only the candidates weigh anything (the host computes no other weight).
        for (int i = t; i < n; i += size)
        {
            weights[i] = Key(values[i], i, ranked, indexBits) >= lowest ? MathF.Exp((values[i] - max) * inverseTemperature) : 0f;
        }

        Group.Barrier();
        if (p.TopP < 1f)
        {
            // The nucleus: the greatest K whose keys ≥ K weigh at least top-p of the candidates.
            double threshold = p.TopP * Mass(values, weights, n, ranked, indexBits, 0, sums);
            long nucleus = Descend(values, weights, n, ranked, indexBits, keyBits, threshold, strict: false, sums);
            for (int i = t; i < n; i += size)
            {
                weights[i] = Key(values[i], i, ranked, indexBits) >= nucleus ? weights[i] : 0f;
            }

            Group.Barrier();
        }

        double mass = Mass(values, weights, n, ranked, indexBits, 0, sums);
        double target = p.Draw * mass;
        long chosen;
        if (mass > target)
        {
            // The first token in the walk whose cumulative weight exceeds the target.
            chosen = Descend(values, weights, n, ranked, indexBits, keyBits, target, strict: true, sums);
        }
        else
        {
            // Rounding left the target unreached: the host takes the walk's last token with any weight.
            long last = long.MaxValue;
            for (int i = t; i < n; i += size)
            {
                long key = Key(values[i], i, ranked, indexBits);
                last = weights[i] > 0 && key < last ? key : last;
            }

            chosen = GroupReduce.Min(last, longs);
            if (chosen == long.MaxValue)
            {
                return -1;
            }
        }

        long mask = (1L << indexBits) - 1;
        return (int)(mask - (chosen & mask));
    }

    /// <summary>
    /// The k-th greatest key, a byte of it per pass: among the keys that share the bytes found so far, a
    /// histogram of the next byte (integer counts, so the atomics' order cannot change them), and the
    /// greatest byte value at which at least the remaining count of keys lies at or above it.
    /// </summary>
    private static long KthKey(ArrayView<float> values, int n, int indexBits, int keyBits, int k, ArrayView<long> longs, ArrayView<int> histogram)
    {
        int t = Group.IdxX;
        int size = Group.DimX;
        long found = 0;
        int remaining = k;
        for (int shift = ((keyBits - 1) / 8) * 8; shift >= 0; shift -= 8)
        {
            for (int b = t; b < 256; b += size)
            {
                histogram[b] = 0;
            }

            Group.Barrier();
            long prefix = found >> (shift + 8);
            for (int i = t; i < n; i += size)
            {
                long key = Key(values[i], i, ranked: true, indexBits);
                if (key >> (shift + 8) == prefix)
                {
                    Atomic.Add(ref histogram[(int)((key >> shift) & 255)], 1);
                }
            }

            Group.Barrier();
            if (t == 0)
            {
                // Keys in higher bytes are already counted out of the remaining; the answer's byte holds the remaining-th.
                int above = 0;
                int digit = 255;
                while (digit > 0 && above + histogram[digit] < remaining)
                {
                    above += histogram[digit];
                    digit--;
                }

                longs[0] = digit;
                longs[1] = above;
            }

            Group.Barrier();
            found |= longs[0] << shift;
            remaining -= (int)longs[1];
            Group.Barrier();
        }

        return found;
    }

    /// <summary>The greatest key K whose keys ≥ K weigh at least (or, <paramref name="strict"/>, more than) <paramref name="bound"/>.</summary>
    private static long Descend(ArrayView<float> values, ArrayView<float> weights, int n, bool ranked, int indexBits, int keyBits, double bound, bool strict, ArrayView<double> sums)
    {
        long found = 0;
        for (int bit = keyBits - 1; bit >= 0; bit--)
        {
            long candidate = found | (1L << bit);
            double mass = Mass(values, weights, n, ranked, indexBits, candidate, sums);
            found = (strict ? mass > bound : mass >= bound) ? candidate : found;
        }

        return found;
    }

    /// <summary>The weight of the tokens whose key is at least <paramref name="lowest"/>: each thread its own in index order, then the group's tree.</summary>
    private static double Mass(ArrayView<float> values, ArrayView<float> weights, int n, bool ranked, int indexBits, long lowest, ArrayView<double> sums)
    {
        double mass = 0;
        for (int i = Group.IdxX; i < n; i += Group.DimX)
        {
            mass += Key(values[i], i, ranked, indexBits) >= lowest ? weights[i] : 0.0;
        }

        return GroupReduce.Sum(mass, sums);
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
