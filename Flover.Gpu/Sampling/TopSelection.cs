namespace Flover.Gpu.Sampling;

/// <summary>
/// Partial selection of the k largest values (ties: lower index first) with a size-k min-heap:
/// O(n log k), no full sort of a 50 257-entry vocabulary.
/// </summary>
internal static class TopSelection
{
    /// <summary>Writes the indices of the min(k, n) largest <paramref name="values"/> into <paramref name="destination"/>, best first.</summary>
    /// <returns>How many indices were written.</returns>
    public static int Select(ReadOnlySpan<float> values, int k, Span<int> destination)
    {
        k = Math.Min(k, values.Length);
        Span<int> heap = destination[..k];
        int count = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (count < k)
            {
                heap[count] = i;
                SiftUp(values, heap, count++);
            }
            else if (Better(values, i, heap[0]))
            {
                heap[0] = i;
                SiftDown(values, heap, 0, count);
            }
        }

        // Heap order to best-first order: repeatedly move the worst (the root) to the end.
        for (int end = count - 1; end > 0; end--)
        {
            (heap[0], heap[end]) = (heap[end], heap[0]);
            SiftDown(values, heap, 0, end);
        }

        return count;
    }

    /// <summary>Whether index <paramref name="a"/> ranks above <paramref name="b"/>: larger value, then lower index; NaN ranks last.</summary>
    public static bool Better(ReadOnlySpan<float> values, int a, int b)
    {
        float x = values[a];
        float y = values[b];
        if (x > y || (float.IsNaN(y) && !float.IsNaN(x)))
        {
            return true;
        }

        return (x == y || (float.IsNaN(x) && float.IsNaN(y))) && a < b;
    }

    private static void SiftUp(ReadOnlySpan<float> values, Span<int> heap, int index)
    {
        while (index > 0)
        {
            int parent = (index - 1) / 2;
            if (!Better(values, heap[parent], heap[index]))
            {
                return;
            }

            (heap[parent], heap[index]) = (heap[index], heap[parent]);
            index = parent;
        }
    }

    private static void SiftDown(ReadOnlySpan<float> values, Span<int> heap, int index, int count)
    {
        while (true)
        {
            int worst = index;
            int left = (2 * index) + 1;
            int right = left + 1;
            if (left < count && Better(values, heap[worst], heap[left]))
            {
                worst = left;
            }

            if (right < count && Better(values, heap[worst], heap[right]))
            {
                worst = right;
            }

            if (worst == index)
            {
                return;
            }

            (heap[worst], heap[index]) = (heap[index], heap[worst]);
            index = worst;
        }
    }
}
