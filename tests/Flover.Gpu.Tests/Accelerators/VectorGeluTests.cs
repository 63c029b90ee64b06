using System.Runtime.Intrinsics;
using Flover.Gpu.Kernels.Cpu;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>The CPU engine's float tanh GELU against the double formula it replaced, and its lanes across widths.</summary>
public sealed unsafe class VectorGeluTests
{
    private static double Reference(float x)
    {
        double v = x;
        return 0.5 * v * (1.0 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + (0.044715 * v * v * v))));
    }

    [Fact]
    public void Gelu_is_within_three_ulp_of_the_double_formula_on_minus_one_to_six() =>
        Assert.InRange(WorstError(-1, 6, (x, expected) => Ulp((float)expected)), 0, 3);

    /// <summary>
    /// Where x is negative the result is x times a small factor e^2u, whose argument's rounding the
    /// exponential magnifies (71 ulp of the result at x = −6): the error stays under two ulp of x (1.54 measured).
    /// </summary>
    [Fact]
    public void Gelu_errs_by_under_two_ulp_of_its_input_on_minus_six_to_six() =>
        Assert.InRange(WorstError(-6, 6, (x, expected) => Ulp(Math.Max(Math.Abs(x), Math.Abs((float)expected)))), 0, 2);

    /// <summary>The largest error over [from, to] in steps of 10⁻⁵, each in the unit <paramref name="unit"/> gives for (x, exact value).</summary>
    private static double WorstError(int from, int to, Func<float, double, double> unit)
    {
        double worst = 0;
        for (int step = from * 100_000; step <= to * 100_000; step++)
        {
            float x = step / 100_000f;
            double expected = Reference(x);
            worst = Math.Max(worst, Math.Abs(VectorGelu.GeluTanh(x) - expected) / unit(x, expected));
        }

        return worst;
    }

    [Theory]
    [InlineData(-1e30f)]
    [InlineData(-100f)]
    [InlineData(-12f)]
    [InlineData(-1e-30f)]
    [InlineData(0f)]
    [InlineData(1e-30f)]
    [InlineData(9f)]
    [InlineData(100f)]
    [InlineData(3e38f)]
    public void Gelu_is_within_1e_7_absolute_of_the_double_formula_anywhere(float x) =>
        Assert.InRange(VectorGelu.GeluTanh(x) - Reference(x), -1e-7, 1e-7);

    private static double Ulp(float value)
    {
        float magnitude = MathF.Abs(value);
        return magnitude == 0f ? float.Epsilon : MathF.BitIncrement(magnitude) - magnitude;
    }

    [Fact]
    public void Gelu_keeps_nan_and_follows_the_double_formula_at_the_infinities()
    {
        Assert.True(float.IsNaN(VectorGelu.GeluTanh(float.NaN)));
        Assert.Equal(float.PositiveInfinity, VectorGelu.GeluTanh(float.PositiveInfinity));
        // −∞ · (1 + tanh(−∞)) is −∞ · 0 in the double formula too.
        Assert.True(float.IsNaN(VectorGelu.GeluTanh(float.NegativeInfinity)));
    }

    [Fact]
    public void Gelu_lanes_are_bitwise_the_same_in_vector512_vector256_and_one_lane()
    {
        var values = new float[16 * 2048];
        var random = new Random(29);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() - 0.5) * 20);
        }

        fixed (float* v = values)
        {
            for (int i = 0; i < values.Length; i += 16)
            {
                Vector512<float> wide = VectorGelu.GeluTanh(Vector512.Load(v + i));
                Vector256<float> lower = VectorGelu.GeluTanh(Vector256.Load(v + i));
                Vector256<float> upper = VectorGelu.GeluTanh(Vector256.Load(v + i + 8));
                Assert.Equal(Vector512.Create(lower, upper).AsUInt32(), wide.AsUInt32());
                Assert.Equal(BitConverter.SingleToUInt32Bits(wide.GetElement(3)), BitConverter.SingleToUInt32Bits(VectorGelu.GeluTanh(v[i + 3])));
            }
        }
    }
}
