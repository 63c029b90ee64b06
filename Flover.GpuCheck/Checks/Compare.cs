namespace Flover.GpuCheck.Checks;

/// <summary>How far apart two result vectors are.</summary>
internal static class Compare
{
    /// <summary>‖actual − expected‖₂ / ‖expected‖₂, in double.</summary>
    public static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            throw new ArgumentException($"Lengths differ: {actual.Length} and {expected.Length}.", nameof(actual));
        }

        double difference = 0;
        double norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = (double)actual[i] - expected[i];
            difference += d * d;
            norm += (double)expected[i] * expected[i];
        }

        return norm == 0 ? Math.Sqrt(difference) : Math.Sqrt(difference / norm);
    }

    /// <summary>As <see cref="RelativeL2(ReadOnlySpan{float}, ReadOnlySpan{float})"/> against a float64 reference.</summary>
    public static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - expected[i];
            difference += d * d;
            norm += expected[i] * expected[i];
        }

        return norm == 0 ? Math.Sqrt(difference) : Math.Sqrt(difference / norm);
    }

    /// <summary>The largest relative L2 over rows.</summary>
    public static double WorstRow(float[][] actual, float[][] expected) =>
        actual.Select((row, i) => RelativeL2(row, expected[i])).DefaultIfEmpty(0).Max();

    /// <summary>Whether every row is bitwise equal.</summary>
    public static bool Bitwise(float[][] a, float[][] b) =>
        a.Length == b.Length && a.Zip(b).All(pair => pair.First.AsSpan().SequenceEqual(pair.Second));

    /// <summary>Index of the largest value (first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
