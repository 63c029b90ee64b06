using Flover.Gpu.Sampling;

namespace Flover.Gpu.Tests.Sampling;

public sealed class CounterRandomTests
{
    [Fact]
    public void Philox_matches_the_Random123_known_answer_for_zero_counter_and_key()
    {
        Assert.Equal((0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u), CounterRandom.Philox4x32(0, 0, 0, 0, 0, 0));
    }

    [Fact]
    public void Philox_matches_the_Random123_known_answer_for_all_ones()
    {
        Assert.Equal(
            (0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu),
            CounterRandom.Philox4x32(uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue));
    }

    [Fact]
    public void A_draw_is_a_pure_function_of_seed_and_index()
    {
        double first = CounterRandom.Uniform(42, 7);
        _ = CounterRandom.Uniform(42, 8);
        _ = CounterRandom.Uniform(43, 7);

        Assert.Equal(first, CounterRandom.Uniform(42, 7));
        Assert.NotEqual(first, CounterRandom.Uniform(43, 7));
        Assert.NotEqual(first, CounterRandom.Uniform(42, 8));
    }

    [Fact]
    public void Draws_lie_in_the_unit_interval_and_fill_its_tenths_evenly()
    {
        int[] buckets = new int[10];
        for (long i = 0; i < 20_000; i++)
        {
            double u = CounterRandom.Uniform(12345, i);
            Assert.InRange(u, 0.0, Math.BitDecrement(1.0));
            buckets[(int)(u * 10)]++;
        }

        Assert.All(buckets, count => Assert.InRange(count, 1_850, 2_150));
    }
}
