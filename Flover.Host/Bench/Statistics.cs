namespace Flover.Host.Bench;

/// <summary>Mean and nearest-rank percentiles of a sample, as the bench reports them.</summary>
/// <param name="Mean">The arithmetic mean.</param>
/// <param name="P50">The median by nearest rank.</param>
/// <param name="P90">The 90th percentile by nearest rank.</param>
/// <param name="P99">The 99th percentile by nearest rank.</param>
internal sealed record Distribution(double Mean, double P50, double P90, double P99)
{
    public static Distribution Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return new Distribution(0, 0, 0, 0);
        }

        double[] sorted = [.. values.Order()];
        return new Distribution(sorted.Average(), Statistics.NearestRank(sorted, 50), Statistics.NearestRank(sorted, 90), Statistics.NearestRank(sorted, 99));
    }

    /// <summary>Each figure the median over seeds.</summary>
    public static Distribution Median(IReadOnlyList<Distribution> seeds) => new(
        Statistics.Median([.. seeds.Select(d => d.Mean)]),
        Statistics.Median([.. seeds.Select(d => d.P50)]),
        Statistics.Median([.. seeds.Select(d => d.P90)]),
        Statistics.Median([.. seeds.Select(d => d.P99)]));
}

/// <summary>The bench's two statistics.</summary>
internal static class Statistics
{
    /// <summary>The nearest-rank percentile: the value at rank ⌈p/100 × N⌉ (1-based) of the sorted sample.</summary>
    public static double NearestRank(IReadOnlyList<double> sorted, int percentile)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sorted.Count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(percentile);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        // Integer arithmetic: 0.9 × 10 must be rank 9, not 10 from a rounding error.
        int rank = (int)(((long)percentile * sorted.Count + 99) / 100);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }

    /// <summary>The median (the mean of the two middle values for an even count).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentOutOfRangeException.ThrowIfZero(values.Count);
        double[] sorted = [.. values.Order()];
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
