using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>The searches of the sampled choice: the k-th key a byte per pass, and the bitwise descents over the walk's weights.</summary>
internal static partial class SamplingKernels
{
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
    private static long Descend(Walk walk, int keyBits, double bound, bool strict, ArrayView<double> sums)
    {
        long found = 0;
        for (int bit = keyBits - 1; bit >= 0; bit--)
        {
            long candidate = found | (1L << bit);
            double mass = Mass(walk, candidate, sums);
            found = (strict ? mass > bound : mass >= bound) ? candidate : found;
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
