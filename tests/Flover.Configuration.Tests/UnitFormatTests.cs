namespace Flover.Configuration.Tests;

public sealed class UnitFormatTests
{
    [Theory]
    [InlineData("10ns", 0)]
    [InlineData("100 nanoseconds", 1)]
    [InlineData("5us", 50)]
    [InlineData("5 micros", 50)]
    [InlineData("1ms", 10_000)]
    [InlineData("1 millisecond", 10_000)]
    [InlineData("250", 2_500_000)]
    [InlineData("1.5s", 15_000_000)]
    [InlineData("2 seconds", 20_000_000)]
    [InlineData("1m", 600_000_000)]
    [InlineData("1 minute", 600_000_000)]
    [InlineData("1h", 36_000_000_000)]
    [InlineData("2 hours", 72_000_000_000)]
    [InlineData("1d", 864_000_000_000)]
    [InlineData("3 days", 2_592_000_000_000)]
    public void Durations_accept_every_unit_of_the_specification(string written, long ticks)
    {
        Assert.Equal(TimeSpan.FromTicks(ticks), Hocon.Parse($"d = {written}").GetTimeSpan("d"));
    }

    [Theory]
    [InlineData("infinite")]
    [InlineData("Infinite")]
    [InlineData("\"INFINITE\"")]
    public void Infinite_is_akka_net_infinite_timeout(string written)
    {
        Assert.Equal(Timeout.InfiniteTimeSpan, Hocon.Parse($"d = {written}").GetTimeSpan("d"));
    }

    [Fact]
    public void Infinite_is_rejected_where_the_caller_needs_a_finite_duration()
    {
        var error = Assert.Throws<ConfigurationException>(() => Hocon.Parse("d = infinite").GetTimeSpan("d", allowInfinite: false));

        Assert.Contains("infinite is not allowed here", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10 fortnights", "unknown duration unit 'fortnights'")]
    [InlineData("s", "no number before the unit")]
    [InlineData("1.2.3s", "'1.2.3' is not a number")]
    [InlineData("10S", "unknown duration unit 'S'")]
    public void Bad_durations_explain_what_is_wrong(string written, string reason)
    {
        var error = Assert.Throws<ConfigurationException>(() => Hocon.Parse($"d = {written}").GetTimeSpan("d"));

        Assert.Contains($"setting 'd' must be a duration", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Off_switches_a_duration_off()
    {
        Config config = Hocon.Parse("a = off\nb = 5s");

        Assert.Null(config.GetTimeSpanWithOffSwitch("a"));
        Assert.Equal(TimeSpan.FromSeconds(5), config.GetTimeSpanWithOffSwitch("b"));
    }

    [Theory]
    [InlineData("1024", 1024)]
    [InlineData("10B", 10)]
    [InlineData("10 bytes", 10)]
    [InlineData("1k", 1024)]
    [InlineData("1K", 1024)]
    [InlineData("1Ki", 1024)]
    [InlineData("1KiB", 1024)]
    [InlineData("1 kibibyte", 1024)]
    [InlineData("1kB", 1000)]
    [InlineData("2 kilobytes", 2000)]
    [InlineData("1m", 1048576)]
    [InlineData("1MB", 1000000)]
    [InlineData("1 mebibytes", 1048576)]
    [InlineData("1G", 1073741824)]
    [InlineData("1GB", 1000000000)]
    [InlineData("1T", 1099511627776)]
    [InlineData("1TB", 1000000000000)]
    [InlineData("1P", 1125899906842624)]
    [InlineData("1E", 1152921504606846976)]
    [InlineData("1EB", 1000000000000000000)]
    public void Sizes_accept_powers_of_two_and_ten(string written, long bytes)
    {
        Assert.Equal(bytes, Hocon.Parse($"s = {written}").GetByteSize("s"));
    }

    [Theory]
    [InlineData("1Z")]
    [InlineData("1ZB")]
    [InlineData("1 yobibyte")]
    public void Sizes_beyond_64_bits_are_errors(string written)
    {
        var error = Assert.Throws<ConfigurationException>(() => Hocon.Parse($"s = {written}").GetByteSize("s"));

        Assert.Contains("does not fit in 64 bits", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_size_units_are_errors()
    {
        var error = Assert.Throws<ConfigurationException>(() => Hocon.Parse("s = 1 furlong").GetByteSize("s"));

        Assert.Contains("unknown size unit 'furlong'", error.Message, StringComparison.Ordinal);
    }
}
