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
    public void Rebiased_f16_widening_is_the_half_times_two_to_the_minus_112_exactly()
    {
        AssertWidening<RebiasedF16Format>(bits => (bits & 0x7C00) != 0x7C00, bits => (float)BitConverter.UInt16BitsToHalf(bits) / RebiasedF16Format.InputScale);
    }

    [Fact]
    public void A_rebiased_weight_times_a_scaled_input_rounds_as_the_weight_times_the_input_for_every_finite_half()
    {
        // The identity RebiasedF16Format rests on: fma(w·2^-112, x·2^112, acc) == fma(w, x, acc), including
        // subnormal halves (binary32 subnormals once rebiased), subnormal and near-limit inputs.
        float[] inputs = [1f, -0.7f, 3.3e-3f, 1e-40f, -1.4e-45f, 65535.99f, -40000.5f, 1.0000001f];
        float[] accumulators = [0f, -0f, 1f, -2.5e-7f, 1e30f, 3e-38f];
        for (int bits = 0; bits < 65536; bits++)
        {
            if ((bits & 0x7C00) == 0x7C00)
            {
                continue;
            }

            float weight = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            ushort pattern = (ushort)bits;
            float rebiased = RebiasedF16Format.Widen1(&pattern);
            foreach (float x in inputs)
            {
                foreach (float acc in accumulators)
                {
                    float want = MathF.FusedMultiplyAdd(weight, x, acc);
                    float got = MathF.FusedMultiplyAdd(rebiased, x * RebiasedF16Format.InputScale, acc);
                    Assert.True(BitConverter.SingleToUInt32Bits(want) == BitConverter.SingleToUInt32Bits(got), $"0x{bits:X4} × {x} + {acc}: 0x{BitConverter.SingleToUInt32Bits(got):X8}, expected 0x{BitConverter.SingleToUInt32Bits(want):X8}");
                }
            }
        }
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
    public void The_kv_stores_vectorised_narrowing_is_the_scalar_rounding_on_every_kind_of_float()
    {
        // RowKernels.WriteKv narrows with TensorPrimitives.ConvertToHalf: it must give NarrowToF16's bits for
        // ties, overflow, subnormals and NaN payloads alike. Every 2^32 / 4093 patterns plus the edges.
        float[] values = [.. Enumerable.Range(0, 1 << 20).Select(i => BitConverter.UInt32BitsToSingle(unchecked((uint)i * 4093u)))
            .Concat([65504f, 65519.996f, 65520f, -65520f, 5.9604645e-08f, 2.9802322e-08f, 2.9802326e-08f, float.NaN, -float.NaN, BitConverter.UInt32BitsToSingle(0x7FA00001)])];
        var narrowed = new Half[values.Length];
        System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(values, narrowed);

        for (int i = 0; i < values.Length; i++)
        {
            ushort want = HalfWidening.NarrowToF16(values[i]);
            ushort got = BitConverter.HalfToUInt16Bits(narrowed[i]);
            Assert.True(want == got, $"0x{BitConverter.SingleToUInt32Bits(values[i]):X8}: 0x{got:X4}, expected 0x{want:X4}");
        }
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
