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
    /// The activation: the CPU engine's own GELU functions (<see cref="Cpu.ScalarMath"/>, evaluated in
    /// double and rounded once), which ILGPU compiles for the device with System.Math mapped to its
    /// intrinsics, so both engines use one formula (the device's double functions may still differ
    /// from .NET's in the last bits, far below the tests' tolerances).
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

/// <summary>A weight matrix's elements on the device: F32 values or F16/BF16 bits, <c>[K][N]</c> input-major.</summary>
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
}
