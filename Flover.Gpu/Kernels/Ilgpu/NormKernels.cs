using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>The arguments of <see cref="NormKernels.LayerNorm"/>.</summary>
internal struct LayerNormArgs
{
    public ArrayView<float> Input;
    public ArrayView<float> Output;
    public ArrayView<float> Gain;
    public ArrayView<float> Bias;
    public int Width;
    public float Epsilon;
}

/// <summary>
/// Row normalisation, one group of threads per row. Thread t sums elements t, t + G, t + 2G, ...
/// in order, then the G partial sums are added as a fixed binary tree in shared memory. G is a
/// constant of the device (a power of two chosen at start-up), so a row's bits never depend on its
/// neighbours or on how many rows there are.
/// </summary>
internal static class NormKernels
{
    /// <summary>The largest group (the shared-memory tree's size).</summary>
    public const int MaxGroupSize = 256;

    /// <summary><c>y = (x − mean) · 1/√(var + ε) · gain + bias</c> for row <c>Grid.IdxX</c>; groups of a power-of-two size.</summary>
    public static void LayerNorm(LayerNormArgs a)
    {
        ArrayView<float> partials = SharedMemory.Allocate<float>(MaxGroupSize);
        int t = Group.IdxX;
        int size = Group.DimX;
        long start = (long)Grid.IdxX * a.Width;
        float sum = 0f;
        for (int i = t; i < a.Width; i += size)
        {
            sum += a.Input[start + i];
        }

        float mean = GroupSum(partials, sum, t, size) / a.Width;
        float squares = 0f;
        for (int i = t; i < a.Width; i += size)
        {
            float d = a.Input[start + i] - mean;
            squares += d * d;
        }

        float inverse = 1f / XMath.Sqrt((GroupSum(partials, squares, t, size) / a.Width) + a.Epsilon);
        for (int i = t; i < a.Width; i += size)
        {
            a.Output[start + i] = ((a.Input[start + i] - mean) * inverse * a.Gain[i]) + a.Bias[i];
        }
    }

    /// <summary>The sum of every thread's <paramref name="value"/>, the same tree for every row; every thread gets it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float GroupSum(ArrayView<float> partials, float value, int t, int size)
    {
        partials[t] = value;
        Group.Barrier();
        for (int half = size / 2; half > 0; half /= 2)
        {
            if (t < half)
            {
                partials[t] += partials[t + half];
            }

            Group.Barrier();
        }

        float total = partials[0];
        // Nobody may overwrite the partials for the next sum before everyone has read this one.
        Group.Barrier();
        return total;
    }
}
