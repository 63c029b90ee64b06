using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;

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

    private const double SqrtTwoOverPi = 0.7978845608028654;
    private const double InverseSqrtTwo = 0.7071067811865476;
    private const double TwoOverSqrtPi = 1.1283791670955126;
    private const double InverseSqrtPi = 0.5641895835477563;

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
    /// The activation, evaluated in double and rounded once, as the CPU engine's ScalarMath does
    /// (its double functions differ from .NET's in the last bits, far below the tests' tolerances).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Activate(float x, int activation)
    {
        if (activation == ActivationGeluTanh)
        {
            double v = x;
            return (float)(0.5 * v * (1.0 + XMath.Tanh(SqrtTwoOverPi * (v + (0.044715 * v * v * v)))));
        }

        if (activation == ActivationGeluExact)
        {
            double v = x;
            return (float)(0.5 * v * (1.0 + Erf(v * InverseSqrtTwo)));
        }

        if (activation == ActivationRelu)
        {
            return x > 0f ? x : 0f;
        }

        return x;
    }

    /// <summary>The error function to about 1e-14: Taylor series below 3, continued fraction above (as ScalarMath.Erf).</summary>
    public static double Erf(double x)
    {
        double a = x < 0 ? -x : x;
        double result;
        if (a < 3.0)
        {
            double square = a * a;
            double term = a;
            double sum = a;
            for (int n = 1; n < 200; n++)
            {
                term *= -square / n;
                double contribution = term / ((2 * n) + 1);
                sum += contribution;
                double magnitude = contribution < 0 ? -contribution : contribution;
                double total = sum < 0 ? -sum : sum;
                if (magnitude < 1e-17 * total)
                {
                    break;
                }
            }

            result = TwoOverSqrtPi * sum;
        }
        else if (a < 9.0)
        {
            double fraction = a;
            for (int n = 80; n >= 1; n--)
            {
                fraction = a + ((n / 2.0) / fraction);
            }

            result = 1.0 - (XMath.Exp(-a * a) * InverseSqrtPi / fraction);
        }
        else
        {
            // NaN compares false everywhere above and lands here; NaN in, NaN out.
            result = double.IsNaN(a) ? a : 1.0;
        }

        return x < 0 ? -result : result;
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
