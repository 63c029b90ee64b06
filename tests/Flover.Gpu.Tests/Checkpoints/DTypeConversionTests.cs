using System.Runtime.InteropServices;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Tests.Checkpoints;

/// <summary>
/// Every one of the 65 536 F16 and BF16 bit patterns, stored in a safetensors file and read back
/// through <see cref="TensorView.CopyToSingle"/>, equals its value computed independently in float64.
/// </summary>
public sealed class DTypeConversionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("flover-dtype-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Every_F16_value_widens_exactly()
    {
        float[] widened = ReadAllPatterns("F16");

        for (int bits = 0; bits < 65536; bits++)
        {
            AssertSameValue(ReferenceValue(bits, exponentBits: 5, mantissaBits: 10), widened[bits], bits);
        }
    }

    [Fact]
    public void Every_BF16_value_widens_exactly()
    {
        float[] widened = ReadAllPatterns("BF16");

        for (int bits = 0; bits < 65536; bits++)
        {
            AssertSameValue(ReferenceValue(bits, exponentBits: 8, mantissaBits: 7), widened[bits], bits);
        }
    }

    [Fact]
    public void Narrowing_a_widened_value_gives_back_the_same_bits()
    {
        float[] half = ReadAllPatterns("F16");
        float[] brain = ReadAllPatterns("BF16");

        for (int bits = 0; bits < 65536; bits++)
        {
            if (!float.IsNaN(half[bits]))
            {
                Assert.Equal(bits, BitConverter.HalfToUInt16Bits((Half)half[bits]));
            }

            if (!float.IsNaN(brain[bits]))
            {
                Assert.Equal(bits, BFloat16Bits.FromSingle(brain[bits]));
            }
        }
    }

    /// <summary>The value of an IEEE-style 16-bit pattern from its fields, in float64 (NaN for NaN patterns).</summary>
    private static double ReferenceValue(int bits, int exponentBits, int mantissaBits)
    {
        int sign = bits >> 15;
        int exponent = (bits >> mantissaBits) & ((1 << exponentBits) - 1);
        int mantissa = bits & ((1 << mantissaBits) - 1);
        int bias = (1 << (exponentBits - 1)) - 1;
        int maxExponent = (1 << exponentBits) - 1;
        double magnitude = exponent == maxExponent
            ? (mantissa == 0 ? double.PositiveInfinity : double.NaN)
            : exponent == 0
                ? Math.ScaleB(mantissa, 1 - bias - mantissaBits)
                : Math.ScaleB((1 << mantissaBits) + mantissa, exponent - bias - mantissaBits);
        return sign == 1 ? -magnitude : magnitude;
    }

    private static void AssertSameValue(double expected, float actual, int bits)
    {
        if (double.IsNaN(expected))
        {
            Assert.True(float.IsNaN(actual), $"pattern 0x{bits:X4} should widen to NaN, got {actual}");
            return;
        }

        Assert.True(expected.Equals(actual) && (double.IsNegative(expected) == float.IsNegative(actual)), $"pattern 0x{bits:X4}: expected {expected:R}, got {actual:R}");
    }

    private float[] ReadAllPatterns(string dtype)
    {
        ushort[] patterns = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();
        string path = Path.Combine(_root, dtype + ".safetensors");
        new SafetensorsWriter().AddRaw("all", dtype, [65536], MemoryMarshal.AsBytes(patterns.AsSpan()).ToArray()).Write(path);
        using SafetensorsFile file = SafetensorsFile.Open(path);
        return TestCheckpoint.Read(file.GetView("all"));
    }
}
