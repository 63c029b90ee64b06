using Flover.Host.Bench;

namespace Flover.Host.Tests.Bench;

public sealed class StatisticsTests
{
    [Theory]
    [InlineData(10, 50, 5)]
    [InlineData(10, 90, 9)]
    [InlineData(10, 99, 10)]
    [InlineData(32, 90, 29)]
    [InlineData(100, 99, 99)]
    [InlineData(1, 50, 1)]
    public void Percentiles_are_taken_by_nearest_rank(int count, int percentile, double expected)
    {
        double[] sorted = [.. Enumerable.Range(1, count).Select(i => (double)i)];

        Assert.Equal(expected, Statistics.NearestRank(sorted, percentile));
    }

    [Fact]
    public void A_distribution_sorts_its_sample_first()
    {
        Distribution d = Distribution.Of([5.0, 1, 4, 2, 3]);

        Assert.Equal(new Distribution(3, 3, 5, 5), d);
    }

    [Fact]
    public void The_median_of_an_even_count_is_the_mean_of_the_two_middle_values()
    {
        Assert.Equal(2.5, Statistics.Median([4.0, 1, 3, 2]));
        Assert.Equal(3, Statistics.Median([9.0, 1, 3]));
    }

    [Theory]
    [InlineData(0.3, 0.5)]
    [InlineData(1, 1)]
    [InlineData(1.01, 2)]
    [InlineData(37, 50)]
    [InlineData(0, 1)]
    public void Axis_maxima_round_up_to_1_2_or_5_times_a_power_of_ten(double value, double expected)
    {
        Assert.Equal(expected, SvgCharts.Nice(value), 9);
    }
}
