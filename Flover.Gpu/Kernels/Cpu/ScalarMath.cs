using System.Runtime.CompilerServices;
using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>
/// Element-wise functions: the same input always gives the same output, whichever kernel path (vector
/// body or tail, decode or prefill) applies them. The exact GELU is evaluated in double and rounded
/// once; the tanh GELU goes through <see cref="VectorGelu"/>'s one-lane form, the vector bodies' bits.
/// </summary>
internal static class ScalarMath
{
    private const double SqrtTwoOverPi = 0.7978845608028654;
    private const double InverseSqrtTwo = 0.7071067811865476;
    private const double TwoOverSqrtPi = 1.1283791670955126;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Activate(float x, KernelActivation activation) => activation switch
    {
        KernelActivation.None => x,
        KernelActivation.GeluTanh => VectorGelu.GeluTanh(x),
        KernelActivation.GeluExact => GeluExact(x),
        KernelActivation.Relu => x > 0f ? x : 0f,
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };

    /// <summary>The double form of GPT-2's GELU: the ILGPU kernels' (the CPU engine uses <see cref="VectorGelu"/>), and the CPU one's reference in tests.</summary>
    public static float GeluTanh(float x)
    {
        double v = x;
        return (float)(0.5 * v * (1.0 + Math.Tanh(SqrtTwoOverPi * (v + (0.044715 * v * v * v)))));
    }

    public static float GeluExact(float x)
    {
        double v = x;
        return (float)(0.5 * v * (1.0 + Erf(v * InverseSqrtTwo)));
    }

    /// <summary>The error function to about 1e-14 absolute: Taylor series below 3, continued fraction for erfc above.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        double a = Math.Abs(x);
        double result;
        if (a < 3.0)
        {
            // erf(x) = 2/√π · Σ (−1)ⁿ x^(2n+1) / (n! (2n+1)); terms peak near 170 at x = 3, losing < 3 digits.
            double square = a * a;
            double term = a;
            double sum = a;
            for (int n = 1; n < 200; n++)
            {
                term *= -square / n;
                double contribution = term / ((2 * n) + 1);
                sum += contribution;
                if (Math.Abs(contribution) < 1e-17 * Math.Abs(sum))
                {
                    break;
                }
            }

            result = TwoOverSqrtPi * sum;
        }
        else if (a < 9.0)
        {
            // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated bottom-up.
            double fraction = a;
            for (int n = 80; n >= 1; n--)
            {
                fraction = a + ((n / 2.0) / fraction);
            }

            result = 1.0 - (Math.Exp(-a * a) / (Math.Sqrt(Math.PI) * fraction));
        }
        else
        {
            result = 1.0;
        }

        return x < 0 ? -result : result;
    }
}
