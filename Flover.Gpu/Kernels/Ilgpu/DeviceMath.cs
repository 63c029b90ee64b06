using System.Runtime.CompilerServices;
using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>
/// Scalar helpers the device kernels inline: exact widening of F16/BF16 weight bits and the
/// activations. Written with ILGPU intrinsics only (no <c>System.Half</c>, no exceptions) so the
/// same code compiles to PTX and runs on ILGPU's CPU accelerator.
/// </summary>
internal static class DeviceMath
{
    /// <summary>Weights held as F32 (<see cref="WeightView.Single"/>).</summary>
    public const int FormatF32 = 0;

    /// <summary>Weights held as IEEE half bits (<see cref="WeightView.Bits"/>).</summary>
    public const int FormatF16 = 1;

    /// <summary>Weights held as bfloat16 bits (<see cref="WeightView.Bits"/>).</summary>
    public const int FormatBF16 = 2;

    // The kernels take the activation as an int (KernelActivation's value) so one kernel serves all.
    public const int ActivationNone = 0;
    public const int ActivationGeluTanh = 1;
    public const int ActivationGeluExact = 2;
    public const int ActivationRelu = 3;

    /// <summary>IEEE half bits to float, exactly (subnormals by one exact multiplication).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToSingle(ushort bits)
    {
        uint sign = (uint)(bits & 0x8000) << 16;
        int exponent = (bits >> 10) & 0x1F;
        uint mantissa = (uint)bits & 0x3FF;
        if (exponent == 0)
        {
            // Zero or subnormal: mantissa · 2⁻²⁴ is exact in float.
            float magnitude = mantissa * 5.9604644775390625e-8f;
            return sign != 0 ? -magnitude : magnitude;
        }

        if (exponent == 31)
        {
            return Interop.IntAsFloat(sign | 0x7F800000u | (mantissa << 13));
        }

        return Interop.IntAsFloat(sign | ((uint)(exponent + 112) << 23) | (mantissa << 13));
    }

    /// <summary>bfloat16 bits to float: the top half of the float's bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BFloat16ToSingle(ushort bits) => Interop.IntAsFloat((uint)bits << 16);

    /// <summary>
    /// Rounds a float to IEEE half bits, to nearest with ties to even, overflow to ±Inf, as the host's
    /// <c>(Half)value</c> (KV stores on the device; NaN becomes a quiet NaN of the same sign).
    /// Integer arithmetic only, so it compiles for every ILGPU backend.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort SingleToHalf(float value)
    {
        uint bits = Interop.FloatAsInt(value);
        uint sign = (bits >> 16) & 0x8000u;
        uint magnitude = bits & 0x7FFFFFFFu;
        if (magnitude >= 0x7F800000u)
        {
            return (ushort)(sign | (magnitude > 0x7F800000u ? 0x7E00u : 0x7C00u));
        }

        if (magnitude >= 0x477FF000u)
        {
            // 65520 and above round to infinity (65520 is the tie between 65504 and 2¹⁶).
            return (ushort)(sign | 0x7C00u);
        }

        if (magnitude >= 0x38800000u)
        {
            // Normal: rebias the exponent (127 → 15), then drop 13 mantissa bits rounding to even;
            // a carry out of the mantissa correctly bumps the exponent.
            uint rebased = magnitude - 0x38000000u;
            return (ushort)(sign | ((rebased + 0xFFFu + ((rebased >> 13) & 1u)) >> 13));
        }

        int exponent = (int)(magnitude >> 23);
        if (exponent < 101)
        {
            // Below 2⁻²⁶: less than half the smallest subnormal, so zero.
            return (ushort)sign;
        }

        // Subnormal: the value is m · 2^(e − 150); the half's mantissa is m · 2^(e − 126), rounded to even.
        uint mantissa = (magnitude & 0x7FFFFFu) | 0x800000u;
        int shift = 126 - exponent;
        uint kept = mantissa >> shift;
        uint rest = mantissa & ((1u << shift) - 1u);
        uint half = 1u << (shift - 1);
        if (rest > half || (rest == half && (kept & 1u) != 0))
        {
            kept++;
        }

        return (ushort)(sign | kept);
    }

    /// <summary>Rounds a float to bfloat16 bits, to nearest with ties to even; NaN stays a quiet NaN (as <c>BFloat16Bits.FromSingle</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort SingleToBFloat16(float value)
    {
        uint bits = Interop.FloatAsInt(value);
        if ((bits & 0x7FFFFFFFu) > 0x7F800000u)
        {
            return (ushort)((bits >> 16) | 0x40u);
        }

        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    /// <summary>
    /// The activation: GELU evaluated in double and rounded once (<see cref="Cpu.ScalarMath"/>), which
    /// ILGPU compiles for the device with System.Math mapped to its intrinsics. The CPU engine's tanh
    /// GELU is the float <see cref="Cpu.VectorGelu"/> instead (vector code ILGPU cannot compile); the
    /// two agree to 1e-7 absolute, far below the tests' tolerances.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Activate(float x, int activation)
    {
        if (activation == ActivationGeluTanh)
        {
            return Cpu.ScalarMath.GeluTanh(x);
        }

        if (activation == ActivationGeluExact)
        {
            return Cpu.ScalarMath.GeluExact(x);
        }

        if (activation == ActivationRelu)
        {
            return x > 0f ? x : 0f;
        }

        return x;
    }
}

/// <summary>
/// Elements on the device as F32 values or F16/BF16 bits: a weight matrix's (<c>[K][N]</c>
/// input-major) or the KV pool's.
/// </summary>
internal struct WeightView
{
    /// <summary>The elements of an F32 matrix (a one-element placeholder otherwise).</summary>
    public ArrayView<float> Single;

    /// <summary>The element bits of an F16 or BF16 matrix (a one-element placeholder otherwise).</summary>
    public ArrayView<ushort> Bits;

    /// <summary><see cref="DeviceMath.FormatF32"/>, <see cref="DeviceMath.FormatF16"/> or <see cref="DeviceMath.FormatBF16"/>.</summary>
    public int Format;

    /// <summary>Element <paramref name="index"/> widened exactly to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Load(long index)
    {
        if (Format == DeviceMath.FormatF32)
        {
            return Single[index];
        }

        ushort bits = Bits[index];
        return Format == DeviceMath.FormatBF16 ? DeviceMath.BFloat16ToSingle(bits) : DeviceMath.HalfToSingle(bits);
    }

    /// <summary>Stores <paramref name="value"/> at <paramref name="index"/>, rounded to nearest even where the elements are half bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(long index, float value)
    {
        if (Format == DeviceMath.FormatF32)
        {
            Single[index] = value;
        }
        else
        {
            Bits[index] = Format == DeviceMath.FormatBF16 ? DeviceMath.SingleToBFloat16(value) : DeviceMath.SingleToHalf(value);
        }
    }
}
