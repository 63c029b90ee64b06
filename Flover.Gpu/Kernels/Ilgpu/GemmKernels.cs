using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>
/// The fast GEMM mode's one kernel of its own (<c>flover.engine.batch-invariant = off</c>): cuBLAS
/// takes A and B of one type, so F32 activations are rounded to the 16-bit weights' type before
/// cublasGemmEx multiplies them. Bias and activation stay in <see cref="LinearKernels"/>.
/// </summary>
internal static class GemmKernels
{
    /// <summary>
    /// <c>output[i] = round(input[i])</c> to <paramref name="format"/> (<see cref="DeviceMath.FormatBF16"/>
    /// or <see cref="DeviceMath.FormatF16"/>), to nearest with ties to even, as the KV stores round.
    /// </summary>
    public static void Narrow(Index1D index, ArrayView<float> input, ArrayView<ushort> output, int format) =>
        output[index] = format == DeviceMath.FormatBF16 ? DeviceMath.SingleToBFloat16(input[index]) : DeviceMath.SingleToHalf(input[index]);
}
