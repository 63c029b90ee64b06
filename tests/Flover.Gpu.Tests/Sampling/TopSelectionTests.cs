using Flover.Gpu.Sampling;

namespace Flover.Gpu.Tests.Sampling;

public sealed class TopSelectionTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(50, 7)]
    [InlineData(1000, 64)]
    [InlineData(300, 300)]
    [InlineData(10, 25)]
    public void Selection_equals_the_head_of_a_full_sort_with_ties_broken_by_lower_index(int length, int k)
    {
        var random = new Random(length * 31 + k);
        // Few distinct values, so ties are common.
        float[] values = Enumerable.Range(0, length).Select(_ => (float)random.Next(20)).ToArray();
        int[] expected = Enumerable.Range(0, length).OrderByDescending(i => values[i]).ThenBy(i => i).Take(k).ToArray();
        int[] actual = new int[length];

        int count = TopSelection.Select(values, k, actual);

        Assert.Equal(expected, actual[..count]);
    }
}
