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

/// <summary>Row normalisations: one thread per row, sums in index order (a row's bits never depend on its neighbours).</summary>
internal static class NormKernels
{
    /// <summary><c>y = (x − mean) · 1/√(var + ε) · gain + bias</c> for one row. Index: row.</summary>
    public static void LayerNorm(Index1D row, LayerNormArgs a)
    {
        long start = (long)row.X * a.Width;
        float sum = 0f;
        for (int i = 0; i < a.Width; i++)
        {
            sum += a.Input[start + i];
        }

        float mean = sum / a.Width;
        float squares = 0f;
        for (int i = 0; i < a.Width; i++)
        {
            float d = a.Input[start + i] - mean;
            squares += d * d;
        }

        float inverse = 1f / XMath.Sqrt((squares / a.Width) + a.Epsilon);
        for (int i = 0; i < a.Width; i++)
        {
            a.Output[start + i] = ((a.Input[start + i] - mean) * inverse * a.Gain[i]) + a.Bias[i];
        }
    }
}
