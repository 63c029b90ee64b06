using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>The searches of the sampled choice: the k-th key a byte per pass, and the descents over the walk's weights four bits per pass.</summary>
internal static partial class SamplingKernels
{
    /// <summary>Bits of the key <see cref="Descend"/> settles per pass over the walk.</summary>
    public const int DescendDigitBits = 4;

    /// <summary>Candidates <see cref="Descend"/> weighs per pass: every nonzero value of a digit.</summary>
    public const int DescendCandidates = (1 << DescendDigitBits) - 1;

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

    /// <summary>
    /// The greatest key K whose keys ≥ K weigh at least (or, <paramref name="strict"/>, more than)
    /// <paramref name="bound"/>, <see cref="DescendDigitBits"/> bits per pass: one pass over the walk
    /// weighs all 15 candidates of the next digit at once (each thread its own sums in walk order,
    /// then the group's tree for each, <paramref name="sums"/> holding 15 per thread), and the digit
    /// is the greatest candidate that passes. Every candidate's weight is, bit for bit, what a pass
    /// of its own would sum, and the weight of the keys ≥ K never grows with K (each rounding is
    /// monotone and no weight is negative; only a NaN weight, which a +∞ logit would make, could break
    /// that, and it breaks the host's walk too), so this finds the key a bit-by-bit descent finds, in
    /// a quarter of the passes (12 instead of 48 for a 50 257-token row).
    /// </summary>
    private static long Descend(Walk walk, int keyBits, double bound, bool strict, ArrayView<double> sums)
    {
        int t = Group.IdxX;
        int size = Group.DimX;
        long found = 0;
        for (int shift = ((keyBits - 1) / DescendDigitBits) * DescendDigitBits; shift >= 0; shift -= DescendDigitBits)
        {
            // The top digit may be short: candidates stay below 2^keyBits, as a bitwise descent's do.
            int digits = keyBits - shift >= DescendDigitBits ? DescendCandidates : (1 << (keyBits - shift)) - 1;
            for (int d = 0; d < DescendCandidates; d++)
            {
                sums[(d * size) + t] = 0;
            }

            for (int j = t; j < walk.Count; j += size)
            {
                long key = walk.Key(j);
                double weight = walk.Weight(j);
                for (int d = 0; d < digits; d++)
                {
                    sums[(d * size) + t] += key >= (found | ((long)(d + 1) << shift)) ? weight : 0.0;
                }
            }

            Group.Barrier();
            for (int half = size / 2; half > 0; half /= 2)
            {
                if (t < half)
                {
                    for (int d = 0; d < digits; d++)
                    {
                        sums[(d * size) + t] += sums[(d * size) + t + half];
                    }
                }

                Group.Barrier();
            }

            long digit = 0;
            for (int d = digits - 1; d >= 0 && digit == 0; d--)
            {
                double mass = sums[d * size];
                digit = (strict ? mass > bound : mass >= bound) ? d + 1 : 0;
            }

            found |= digit << shift;
            // Every thread has read the roots before the next digit's sums overwrite them.
            Group.Barrier();
        }

        return found;
    }

    /// <summary>How many of the walk's tokens have a key of at least <paramref name="lowest"/>.</summary>
    private static long Count(Walk walk, long lowest, ArrayView<long> longs)
    {
        long count = 0;
        for (int j = Group.IdxX; j < walk.Count; j += Group.DimX)
        {
            count += walk.Key(j) >= lowest ? 1 : 0;
        }

        return GroupReduce.Sum(count, longs);
    }

    /// <summary>The weight of the walk's tokens whose key is at least <paramref name="lowest"/>: each thread its own in walk order, then the group's tree.</summary>
    private static double Mass(Walk walk, long lowest, ArrayView<double> sums)
    {
        double mass = 0;
        for (int j = Group.IdxX; j < walk.Count; j += Group.DimX)
        {
            mass += walk.Key(j) >= lowest ? walk.Weight(j) : 0.0;
        }

        return GroupReduce.Sum(mass, sums);
    }
}
