using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;

namespace Flover.GpuCheck.Checks;

/// <summary>The fast GEMM mode's cuBLAS product against the batch-invariant kernel's, on one accelerator.</summary>
internal sealed partial class KernelChecks
{
    /// <summary>
    /// The bound on <see cref="FastGemmError"/>: 2⁻⁸. Both sides widen the 16-bit weights exactly; the
    /// fast side rounds each activation to BF16 (relative error ≤ 2⁻⁹; F16 ≤ 2⁻¹¹) or, for F32 weights,
    /// both operands to TF32 (≤ 2⁻¹¹ each rounded, ≤ 2⁻¹⁰ each truncated), so its sum moves by at most
    /// 2⁻⁹·Σₖ|x·w|; each side's F32 sums, in their two orders, add at most K·2⁻²⁴·Σₖ|x·w| (3.7e-4 together
    /// at K = 3072), and GELU's slope (≤ 1.13) scales the lot: under 2.7e-3 in all, below 2⁻⁸ = 3.9e-3.
    /// </summary>
    public const double FastGemmBound = 1.0 / 256;

    /// <summary>
    /// Multiplies the same operands with the batch-invariant kernel and with cuBLAS (the accelerator
    /// must have been opened with the fast GEMM mode on a GPU; on ILGPU's CPU accelerator both passes
    /// take the kernel and the result is 0) and returns the worst componentwise error ratio
    /// |fast − invariant| / (Σₖ|x·w| + |bias| + |earlier output|), the scale the rounding bound is
    /// relative to (<see cref="FastGemmBound"/>); NaN or infinity in the fast result is infinite error.
    /// </summary>
    public double FastGemmError(int rows, int k, int n, TensorDType dtype, bool bias, KernelActivation activation, bool accumulate)
    {
        var device = accelerator as IlgpuAccelerator ?? throw new InvalidOperationException("The fast GEMM check needs an ILGPU accelerator.");
        float[] x = Values(rows * k);
        float[] w = Round(Values(k * n), dtype);
        float[] b = Values(n);
        float[] before = Values(rows * n);
        DeviceMatrix matrix = Own(accelerator.UploadMatrix(Tensor(w, dtype, k, n), MatrixLayout.InputMajor, dtype));
        ArrayView<float> input = Upload(x);
        ArrayView<float> biasView = bias ? Upload(b) : default;
        ArrayView<float> invariant = Upload(before);
        ArrayView<float> fast = Upload(before);
        bool kernelsBefore = device.UseBatchInvariantKernels;
        try
        {
            device.UseBatchInvariantKernels = true;
            accelerator.MatMul(input, rows, matrix, biasView, invariant, activation, accumulate);
            device.UseBatchInvariantKernels = false;
            accelerator.MatMul(input, rows, matrix, biasView, fast, activation, accumulate);
        }
        finally
        {
            device.UseBatchInvariantKernels = kernelsBefore;
        }

        float[] expected = Download(invariant);
        float[] actual = Download(fast);
        double worst = 0;
        var scale = new double[n];
        for (int r = 0; r < rows; r++)
        {
            Array.Clear(scale);
            for (int i = 0; i < k; i++)
            {
                double magnitude = Math.Abs(x[(r * k) + i]);
                for (int c = 0; c < n; c++)
                {
                    scale[c] += magnitude * Math.Abs(w[(i * n) + c]);
                }
            }

            for (int c = 0; c < n; c++)
            {
                int at = (r * n) + c;
                double size = scale[c] + (bias ? Math.Abs(b[c]) : 0) + (accumulate ? Math.Abs(before[at]) : 0);
                double error = Math.Abs((double)actual[at] - expected[at]) / size;
                worst = double.IsFinite(error) ? Math.Max(worst, error) : double.PositiveInfinity;
            }
        }

        return worst;
    }
}
