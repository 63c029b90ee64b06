using System.Runtime.Intrinsics;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Kernels.Cpu;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>
/// The CPU's SIMD RMSNorm, rotary and SwiGLU kernels against straightforward float64 references,
/// with error bounds derived from the operations each kernel rounds, on widths that are not
/// multiples of any vector width (the tails); their bitwise invariance is in <see cref="LlamaRowKernelInvarianceTests"/>.
/// </summary>
public sealed unsafe class LlamaRowKernelTests
{
    /// <summary>The unit roundoff of float, 2⁻²⁴.</summary>
    private const double U = 1.0 / (1 << 24);

    public static TheoryData<int> Widths => [1, 7, 8, 9, 16, 17, 31, 33, 64, 100, 2053];

    [Theory]
    [MemberData(nameof(Widths))]
    public void Rms_norm_matches_a_float64_reference_within_its_rounding_bound(int width)
    {
        const int rows = 3;
        float[] x = LlamaKernelRuns.Values(1, rows * width, 3);
        float[] gain = LlamaKernelRuns.Values(2, width, 1.5);
        float[] y = LlamaKernelRuns.RmsNorm(threads: 2, x, rows, width, gain);

        for (int row = 0; row < rows; row++)
        {
            double squares = 0;
            for (int i = 0; i < width; i++)
            {
                squares += (double)x[(row * width) + i] * x[(row * width) + i];
            }

            double inverse = 1 / Math.Sqrt((squares / width) + 1e-5);
            for (int i = 0; i < width; i++)
            {
                double expected = gain[i] * (x[(row * width) + i] * inverse);
                // The sum of squares is n/8 fused multiply-adds per Vector256 lane, a lane sum and a
                // tail, all of positive terms: relative error ≤ (n/8 + 14)u; the square root halves it;
                // the division by n, + ε, the root, 1/· and the two multiplies add ≤ 6u; 3u of slack
                // covers the second-order terms.
                double bound = ((width / 16.0) + 16) * U * Math.Abs(expected);
                Assert.True(Math.Abs(y[(row * width) + i] - expected) <= bound, $"row {row} element {i}: {y[(row * width) + i]} vs {expected}");
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(6)]
    [InlineData(16)]
    [InlineData(34)]
    [InlineData(64)]
    [InlineData(128)]
    public void Rotary_is_bitwise_the_scalar_formula_and_within_two_roundings_of_float64(int headSize)
    {
        const int rows = 4, queryHeads = 3, kvHeads = 1;
        int half = headSize / 2;
        int rowWidth = (queryHeads + (2 * kvHeads)) * headSize;
        float[] qkv = LlamaKernelRuns.Values(3, rows * rowWidth, 2);
        float[] table = LlamaKernelRuns.RotaryTable(positions: 8, headSize);
        int[] positions = [5, 0, 7, 3];
        float[] rotated = LlamaKernelRuns.Rotary(threads: 2, qkv, rows, positions, queryHeads, kvHeads, headSize, table);

        for (int row = 0; row < rows; row++)
        {
            int at = positions[row] * headSize;
            for (int h = 0; h < queryHeads + (2 * kvHeads); h++)
            {
                int head = (row * rowWidth) + (h * headSize);
                for (int i = 0; i < half; i++)
                {
                    float x1 = qkv[head + i], x2 = qkv[head + half + i], c = table[at + i], s = table[at + half + i];
                    bool rotatedHead = h < queryHeads + kvHeads;
                    // The pre-SIMD scalar formula, in float: the kernel must give exactly its bits.
                    float first = rotatedHead ? (x1 * c) - (x2 * s) : x1;
                    float second = rotatedHead ? (x2 * c) + (x1 * s) : x2;
                    Assert.Equal(first, rotated[head + i]);
                    Assert.Equal(second, rotated[head + half + i]);
                    if (rotatedHead)
                    {
                        // Two rounded products and one rounded sum: ≤ 2u (1 + u) (|a| + |b|) for a ± b.
                        AssertWithinTwoRoundings(rotated[head + i], (double)x1 * c, -(double)x2 * s);
                        AssertWithinTwoRoundings(rotated[head + half + i], (double)x2 * c, (double)x1 * s);
                    }
                }
            }
        }
    }

    private static void AssertWithinTwoRoundings(float actual, double a, double b)
    {
        double bound = 2.01 * U * (Math.Abs(a) + Math.Abs(b));
        Assert.True(Math.Abs(actual - (a + b)) <= bound, $"{actual} vs {a + b} (bound {bound})");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void SwiGlu_matches_a_float64_reference_within_six_units_of_rounding(int width)
    {
        const int rows = 3;
        // Gates over [−120, 120]: past the range where e^−|g| is a normal float, so the flush to 0 is covered too.
        float[] gateUp = LlamaKernelRuns.Values(4, rows * 2 * width, 120);
        float[] y = LlamaKernelRuns.SwiGlu(threads: 2, gateUp, rows, width);

        for (int row = 0; row < rows; row++)
        {
            for (int i = 0; i < width; i++)
            {
                double g = gateUp[(row * 2 * width) + i], up = gateUp[(row * 2 * width) + width + i];
                double expected = g / (1 + Math.Exp(-g)) * up;
                // e = e^−g ≤ 1.01 ulp (≤ 2.02u relative), 1 + e adds u plus ≤ 2.02u · e / (1 + e), the
                // division u and · up u: ≤ 5.04u, to first order. Where e^−g saturates (g < −88.38 gives
                // −0) the true silu is under 4·10⁻³⁷ in magnitude (g > 87.34 stays within the relative bound).
                double bound = (6 * U * Math.Abs(expected)) + (4e-37 * Math.Abs(up));
                Assert.True(Math.Abs(y[(row * width) + i] - expected) <= bound, $"row {row} element {i}: silu({g}) · {up} = {y[(row * width) + i]}, expected {expected}");
            }
        }
    }

    [Fact]
    public void SwiGlu_keeps_infinities_nan_zeros_and_the_edges_of_the_exponential()
    {
        float[] gates = [float.PositiveInfinity, float.NegativeInfinity, float.NaN, 0f, -0f, -87.3f, -88.4f, 87.4f, -1000f, 1000f, float.MaxValue, -float.Epsilon];
        float[] gateUp = [.. gates, .. Enumerable.Repeat(1f, gates.Length)];

        float[] y = LlamaKernelRuns.SwiGlu(threads: 1, gateUp, rows: 1, gates.Length);

        Assert.Equal(float.PositiveInfinity, y[0]);
        Assert.True(float.IsNaN(y[1]), "silu(−∞) = −∞ / ∞ is NaN, as torch's −∞ · σ(−∞) = −∞ · 0");
        Assert.True(float.IsNaN(y[2]));
        Assert.Equal(0f, y[3]);
        Assert.True(float.IsNegative(y[4]) && y[4] == 0f, "silu(−0) = −0");
        Assert.Equal(-87.3f / (1 + Math.Exp(87.3f)), y[5], 1e-42);
        Assert.True(float.IsNegative(y[6]) && y[6] == 0f, "e^88.4 saturates to +∞: silu(−88.4) = −0 (true −3.6·10⁻³⁷)");
        Assert.Equal(87.4f, y[7]);
        Assert.Equal(0f, y[8]);
        Assert.Equal(1000f, y[9]);
        Assert.Equal(float.MaxValue, y[10]);
        Assert.Equal(-float.Epsilon / 2.0, y[11], 1e-45);
    }

    [Fact]
    public void The_exponential_is_within_1_01_ulp_of_float64_on_every_ten_thousandth_from_minus_87_3_to_88_3()
    {
        double worst = 0;
        for (int step = -873_000; step <= 883_000; step++)
        {
            float x = step / 10_000f;
            float actual = VectorSilu.Exp(Vector256.Create(x)).ToScalar();
            double expected = Math.Exp(x);
            float rounded = (float)expected;
            worst = Math.Max(worst, Math.Abs(actual - expected) / (MathF.BitIncrement(rounded) - rounded));
        }

        Assert.InRange(worst, 0, 1.01);
    }

    [Fact]
    public void Silu_lanes_are_bitwise_the_same_in_vector512_and_vector256()
    {
        float[] values = LlamaKernelRuns.Values(5, 16 * 4096, 100);
        fixed (float* v = values)
        {
            for (int i = 0; i < values.Length; i += 16)
            {
                Vector512<float> wide = VectorSilu.Silu(Vector512.Load(v + i));
                Vector256<float> lower = VectorSilu.Silu(Vector256.Load(v + i));
                Vector256<float> upper = VectorSilu.Silu(Vector256.Load(v + i + 8));
                Assert.Equal(Vector512.Create(lower, upper).AsUInt32(), wide.AsUInt32());
            }
        }
    }

    [Fact]
    public void Rotary_refuses_a_position_outside_its_table_before_rotating_any_row()
    {
        float[] qkv = LlamaKernelRuns.Values(6, 3 * 3 * 4, 1);
        using Accelerator accelerator = LlamaKernelRuns.Cpu(threads: 2);
        using MemoryBuffer<float> buffer = LlamaKernelRuns.Upload(accelerator, qkv);
        using MemoryBuffer<float> table = LlamaKernelRuns.Upload(accelerator, LlamaKernelRuns.RotaryTable(positions: 4, headSize: 4));
        using MemoryBuffer<int> positions = LlamaKernelRuns.Upload(accelerator, [1, 2, 4]);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => accelerator.ApplyRotary(buffer.View, 3, positions.View, 1, 1, 4, table.View));

        Assert.Contains("Row 2", error.Message, StringComparison.Ordinal);
        var after = new float[qkv.Length];
        accelerator.CopyToCpu(buffer.View, after);
        Assert.Equal(qkv, after);
    }
}
