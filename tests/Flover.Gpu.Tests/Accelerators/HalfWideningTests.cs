using System.Runtime.Intrinsics;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Kernels.Cpu;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>The in-register widenings of the half-precision matmul, against .NET's scalar conversions, on all 65 536 patterns.</summary>
public sealed unsafe class HalfWideningTests
{
    [Fact]
    public void Finite_f16_widening_is_exact_for_every_finite_half()
    {
        AssertWidening<FiniteF16Format>(bits => (bits & 0x7C00) != 0x7C00, bits => (float)BitConverter.UInt16BitsToHalf(bits));
    }

    [Fact]
    public void Full_f16_widening_is_exact_for_every_half_including_infinities_and_nans()
    {
        AssertWidening<F16Format>(_ => true, bits => (float)BitConverter.UInt16BitsToHalf(bits));
    }

    [Fact]
    public void Bf16_widening_is_exact_for_every_pattern()
    {
        AssertWidening<BF16Format>(_ => true, BFloat16Bits.ToSingle);
    }

    [Fact]
    public void Non_finite_f16_values_are_detected()
    {
        ushort[] values = [0x3C00, 0x0001, 0x7BFF, 0xFC00];
        fixed (ushort* pointer = values)
        {
            Assert.True(HalfWidening.AnyNonFiniteF16(pointer, 4));
            Assert.False(HalfWidening.AnyNonFiniteF16(pointer, 3));
        }
    }

    private static void AssertWidening<TFormat>(Func<ushort, bool> included, Func<ushort, float> expected)
        where TFormat : IPanelFormat<ushort>
    {
        ushort[] patterns = [.. Enumerable.Range(0, 65536).Select(i => (ushort)i).Where(included)];
        int count = patterns.Length - (patterns.Length % 16);
        var wide = new float[count];
        var narrow = new float[count];
        fixed (ushort* source = patterns)
        fixed (float* w = wide, n = narrow)
        {
            for (int i = 0; i < count; i += 16)
            {
                TFormat.Widen16(source + i).Store(w + i);
                TFormat.Widen8(source + i).Store(n + i);
                TFormat.Widen8(source + i + 8).Store(n + i + 8);
            }
        }

        for (int i = 0; i < count; i++)
        {
            uint want = BitConverter.SingleToUInt32Bits(expected(patterns[i]));
            Assert.True(want == BitConverter.SingleToUInt32Bits(wide[i]), $"0x{patterns[i]:X4}: Vector512 gave 0x{BitConverter.SingleToUInt32Bits(wide[i]):X8}, expected 0x{want:X8}");
            Assert.True(want == BitConverter.SingleToUInt32Bits(narrow[i]), $"0x{patterns[i]:X4}: Vector256 gave 0x{BitConverter.SingleToUInt32Bits(narrow[i]):X8}, expected 0x{want:X8}");
        }
    }
}
