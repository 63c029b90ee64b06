using Flover.Gpu;
using Flover.Host.Bench;

namespace Flover.Host.Tests.Bench;

public sealed class WorkloadGeneratorTests
{
    private static WorkloadSpec Spec(string arrival = "poisson", double interval = 20, int requests = 32, string output = "uniform:16:256") =>
        new(arrival, interval, requests, 8, OutputLengthSpec.Parse(output), 50257);

    [Fact]
    public void The_same_seed_gives_the_same_workload_and_another_seed_another()
    {
        IReadOnlyList<BenchRequest> a = WorkloadGenerator.Generate(Spec(), 3);
        IReadOnlyList<BenchRequest> b = WorkloadGenerator.Generate(Spec(), 3);
        IReadOnlyList<BenchRequest> c = WorkloadGenerator.Generate(Spec(), 4);

        Assert.Equal(a.Select(r => (r.Arrival, r.OutputTokens, string.Join(',', r.Prompt))), b.Select(r => (r.Arrival, r.OutputTokens, string.Join(',', r.Prompt))));
        Assert.NotEqual(a.Select(r => r.Arrival), c.Select(r => r.Arrival));
        Assert.NotEqual(a.Select(r => r.OutputTokens), c.Select(r => r.OutputTokens));
    }

    [Fact]
    public void Constant_arrivals_are_exactly_one_interval_apart_from_zero()
    {
        IReadOnlyList<BenchRequest> requests = WorkloadGenerator.Generate(Spec("constant", 50, 4, "64"), 1);

        Assert.Equal([0.0, 50, 100, 150], requests.Select(r => r.Arrival.TotalMilliseconds));
        Assert.All(requests, r => Assert.Equal(64, r.OutputTokens));
        Assert.All(requests, r => Assert.Equal(8, r.Prompt.Length));
        Assert.Equal([1L, 2, 3, 4], requests.Select(r => r.Id));
    }

    [Fact]
    public void Poisson_gaps_average_the_mean_interval_and_lengths_stay_in_bounds()
    {
        IReadOnlyList<BenchRequest> requests = WorkloadGenerator.Generate(Spec(requests: 4001), 7);

        double meanGap = requests[^1].Arrival.TotalMilliseconds / 4000;
        Assert.InRange(meanGap, 19, 21);
        Assert.All(requests, r => Assert.InRange(r.OutputTokens, 16, 256));
        Assert.Contains(requests, r => r.OutputTokens == 16);
        Assert.Contains(requests, r => r.OutputTokens == 256);
        Assert.All(requests.Zip(requests.Skip(1)), pair => Assert.True(pair.Second.Arrival >= pair.First.Arrival));
    }

    [Theory]
    [InlineData("64", 64, 64)]
    [InlineData("uniform:16:256", 16, 256)]
    [InlineData(" uniform:5:5 ", 5, 5)]
    public void Output_lengths_parse_fixed_or_uniform(string text, int min, int max)
    {
        Assert.Equal(new OutputLengthSpec(min, max), OutputLengthSpec.Parse(text));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("uniform:9:3")]
    [InlineData("normal:1:2")]
    [InlineData("uniform:1")]
    public void Bad_output_lengths_are_refused_with_the_expected_forms(string text)
    {
        var error = Assert.Throws<FloverException>(() => OutputLengthSpec.Parse(text));

        Assert.Contains("uniform:MIN:MAX", error.Message, StringComparison.Ordinal);
    }
}
