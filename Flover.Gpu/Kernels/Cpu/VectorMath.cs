using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>
/// Small reductions with a fixed evaluation order for a given length (Vector256 lanes, then the
/// lane sum, then the scalar tail), so the same data always gives bitwise the same result.
/// </summary>
internal static unsafe class VectorMath
{
    /// <summary>a·b, fused multiply-adds in lane order, then the lane sum, then the tail (RMSNorm's sum of squares).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int length)
    {
        Vector256<float> accumulator = Vector256<float>.Zero;
        int i = 0;
        for (; i + Vector256<float>.Count <= length; i += Vector256<float>.Count)
        {
            accumulator = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), accumulator);
        }

        float sum = Vector256.Sum(accumulator);
        for (; i < length; i++)
        {
            sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(float* values, int length)
    {
        Vector256<float> accumulator = Vector256<float>.Zero;
        int i = 0;
        for (; i + Vector256<float>.Count <= length; i += Vector256<float>.Count)
        {
            accumulator += Vector256.Load(values + i);
        }

        float sum = Vector256.Sum(accumulator);
        for (; i < length; i++)
        {
            sum += values[i];
        }

        return sum;
    }

    /// <summary>Σ (x − mean)² in the same fixed order as <see cref="Sum"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SumOfSquaredDeviations(float* values, int length, float mean)
    {
        Vector256<float> accumulator = Vector256<float>.Zero;
        Vector256<float> center = Vector256.Create(mean);
        int i = 0;
        for (; i + Vector256<float>.Count <= length; i += Vector256<float>.Count)
        {
            Vector256<float> deviation = Vector256.Load(values + i) - center;
            accumulator = Vector256.FusedMultiplyAdd(deviation, deviation, accumulator);
        }

        float sum = Vector256.Sum(accumulator);
        for (; i < length; i++)
        {
            float deviation = values[i] - mean;
            sum = MathF.FusedMultiplyAdd(deviation, deviation, sum);
        }

        return sum;
    }
}
