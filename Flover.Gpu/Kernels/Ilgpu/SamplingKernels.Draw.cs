using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>The sampled choice on the device: temperature, top-k, top-p and the inverse-CDF pick over a walk of the tokens.</summary>
internal static partial class SamplingKernels
{
    /// <summary>
    /// The tokens a choice walks: the whole row (position j is token j, its weight in the weights row),
    /// or after top-k the candidates compacted into the weights row (token <see cref="Order"/>[j], weight <see cref="Weights"/>[j]).
    /// </summary>
    private struct Walk
    {
        public ArrayView<float> Values;
        public ArrayView<int> Order;
        public ArrayView<float> Weights;
        public int Count;
        public bool Compacted;
        public bool Ranked;
        public int IndexBits;

        public readonly int Token(int j) => Compacted ? Order[j] : j;

        public readonly float Weight(int j) => Weights[j];

        public readonly void SetWeight(int j, float weight) => Weights[j] = weight;

        public readonly long Key(int j)
        {
            int token = Token(j);
            return SamplingKernels.Key(Values[token], token, Ranked, IndexBits);
        }
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
        Walk walk;
        if (p.TopK > 0 && p.TopK <= n / 2)
        {
            // Top-k: from here on only the k candidates are walked, compacted in a fixed order.
            long lowest = KthKey(values, n, indexBits, keyBits, p.TopK, longs, histogram);
            walk = Compact(values, weights, n, indexBits, lowest, max, inverseTemperature, p.TopK, longs);
        }
        else
        {
            // Every token weighs (top-k, if any, keeps more than half of them: the k-th key is found as well).
            long lowest = p.TopK > 0 && p.TopK < n ? KthKey(values, n, indexBits, keyBits, p.TopK, longs, histogram) : 0;
            walk = new Walk { Values = values, Weights = weights, Order = weights.Cast<int>(), Count = n, Compacted = false, Ranked = ranked, IndexBits = indexBits };
            for (int i = t; i < n; i += size)
            {
                // Only the candidates weigh anything (the host computes no other weight).
                weights[i] = Key(values[i], i, ranked, indexBits) >= lowest ? MathF.Exp((values[i] - max) * inverseTemperature) : 0f;
            }

            Group.Barrier();
        }

        if (p.TopP < 1f)
        {
            // The nucleus: the greatest K whose keys ≥ K weigh at least top-p of the candidates.
            double threshold = p.TopP * Mass(walk, 0, sums);
            long nucleus = Descend(walk, keyBits, threshold, strict: false, sums);
            long kept = walk.Compacted ? walk.Count : Count(walk, nucleus, longs);
            if (!walk.Compacted && kept <= n / 2)
            {
                // A nucleus of at most half the row: the pick walks only it.
                walk = Compact(values, weights, n, indexBits, nucleus, max, inverseTemperature, (int)kept, longs);
            }
            else
            {
                for (int j = t; j < walk.Count; j += size)
                {
                    walk.SetWeight(j, walk.Key(j) >= nucleus ? walk.Weight(j) : 0f);
                }

                Group.Barrier();
            }
        }

        double mass = Mass(walk, 0, sums);
        double target = p.Draw * mass;
        long chosen;
        if (mass > target)
        {
            // The first token in the walk whose cumulative weight exceeds the target.
            chosen = Descend(walk, keyBits, target, strict: true, sums);
        }
        else
        {
            // Rounding left the target unreached: the host takes the walk's last token with any weight.
            long last = long.MaxValue;
            for (int j = t; j < walk.Count; j += size)
            {
                long key = walk.Key(j);
                last = walk.Weight(j) > 0 && key < last ? key : last;
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
    /// Gathers the tokens whose key is at least <paramref name="lowest"/> (exactly <paramref name="k"/>)
    /// with their weights into the front of the weights row: indices, then weights. Each thread writes
    /// its own in index order at an offset from a scan of the threads' counts, so the order is fixed.
    /// </summary>
    private static Walk Compact(ArrayView<float> values, ArrayView<float> weights, int n, int indexBits, long lowest, float max, float inverseTemperature, int k, ArrayView<long> longs)
    {
        int t = Group.IdxX;
        int size = Group.DimX;
        long mine = 0;
        for (int i = t; i < n; i += size)
        {
            mine += Key(values[i], i, ranked: true, indexBits) >= lowest ? 1 : 0;
        }

        // Inclusive scan of the counts (Hillis-Steele), then this thread's start.
        longs[t] = mine;
        Group.Barrier();
        for (int distance = 1; distance < size; distance *= 2)
        {
            long before = t >= distance ? longs[t - distance] : 0;
            Group.Barrier();
            longs[t] += before;
            Group.Barrier();
        }

        int position = (int)(longs[t] - mine);
        Group.Barrier();
        var walk = new Walk { Values = values, Order = weights.Cast<int>().SubView(0, k), Weights = weights.SubView(k, k), Count = k, Compacted = true, Ranked = true, IndexBits = indexBits };
        for (int i = t; i < n; i += size)
        {
            if (Key(values[i], i, ranked: true, indexBits) >= lowest)
            {
                walk.Order[position] = i;
                walk.Weights[position] = MathF.Exp((values[i] - max) * inverseTemperature);
                position++;
            }
        }

        Group.Barrier();
        return walk;
    }
}
