using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>cublasGemmEx's shape arguments (<see cref="CuBlasNative.GemmEx"/>); A is the weights, B the input, C the output.</summary>
/// <param name="TransA"><c>transa</c> (<see cref="CuBlasNative.OpN"/> or <see cref="CuBlasNative.OpT"/>).</param>
/// <param name="TransB"><c>transb</c>.</param>
/// <param name="M">Rows of op(A) and C.</param>
/// <param name="N">Columns of op(B) and C.</param>
/// <param name="K">Columns of op(A), rows of op(B).</param>
/// <param name="Lda">A's leading dimension.</param>
/// <param name="Ldb">B's leading dimension.</param>
/// <param name="Ldc">C's leading dimension.</param>
internal readonly record struct GemmArguments(int TransA, int TransB, int M, int N, int K, int Lda, int Ldb, int Ldc);

/// <summary>The element and compute types of one fast GEMM, chosen by the weights' precision.</summary>
/// <param name="DataType">The cudaDataType of A and B (cuBLAS wants both the same): the weights' own.</param>
/// <param name="ComputeType">The cublasComputeType_t.</param>
/// <param name="NarrowsInput">Whether the F32 activations are first rounded to <paramref name="DataType"/> (16-bit weights).</param>
internal readonly record struct GemmTypes(int DataType, int ComputeType, bool NarrowsInput);

/// <summary>
/// How Flover's row-major matmul maps onto column-major cuBLAS. A pure function, so the derivation
/// is tested on the CPU against a reference that reads the arguments exactly as cuBLAS documents them.
/// </summary>
internal static class GemmLayout
{
    /// <summary>
    /// The arguments that make cublasGemmEx compute <c>Y = X·W</c> as <see cref="Kernels.Ilgpu.LinearKernels.MatMul"/> does.
    /// </summary>
    /// <remarks>
    /// Flover's layout (LinearKernels.MatMul's indexing): the input X is row-major <c>[rows][K]</c>,
    /// X[r,k] at r·K + k; the weights W are input-major <c>[K][N]</c> (<see cref="IlgpuMatrix"/>
    /// stores every matrix so), W[k,n] at k·N + n; the output Y is row-major <c>[rows][N]</c>, Y[r,n]
    /// at r·N + n. cuBLAS reads a column-major matrix with leading dimension ld, element (i, j) at
    /// i + j·ld. A row-major R×C array read column-major with ld = C is therefore its transpose, C×R:
    /// (i, j) at i + j·C is row j, column i. So W's memory with ld = N is Wᵀ (N×K), X's with ld = K is
    /// Xᵀ (K×rows), and Y's with ld = N is Yᵀ (N×rows). Since Y = X·W ⇔ Yᵀ = Wᵀ·Xᵀ, cuBLAS computes
    /// C = A·B with A = the weights as stored (op N, m×k = N×K, lda = N), B = the input as stored
    /// (op N, k×n = K×rows, ldb = K) and C = the output (m×n = N×rows, ldc = N): no transposes, and
    /// cuBLAS's constraints lda ≥ m, ldb ≥ k, ldc ≥ m hold with equality.
    /// </remarks>
    public static GemmArguments For(int rows, int inputSize, int outputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        return new GemmArguments(CuBlasNative.OpN, CuBlasNative.OpN, M: outputSize, N: rows, K: inputSize, Lda: outputSize, Ldb: inputSize, Ldc: outputSize);
    }

    /// <summary>
    /// The types for weights held in <paramref name="weights"/>: BF16 and F16 weights multiply
    /// activations rounded to the same 16-bit type (cuBLAS takes A and B of one type) with F32
    /// products and sums (<c>CUBLAS_COMPUTE_32F</c>) on the tensor cores; F32 weights run
    /// <c>CUBLAS_COMPUTE_32F_FAST_TF32</c>, which rounds both operands to TF32 inside the tensor
    /// cores and sums in F32, so F32 weights need no copy. F16 activations overflow past 65504; BF16
    /// (the recommended weight type in this mode) has F32's range.
    /// </summary>
    /// <exception cref="FloverException">A type the matrices are never held in.</exception>
    public static GemmTypes TypesFor(TensorDType weights) => weights switch
    {
        TensorDType.F32 => new GemmTypes(CuBlasNative.DataF32, CuBlasNative.Compute32FFastTf32, NarrowsInput: false),
        TensorDType.BF16 => new GemmTypes(CuBlasNative.DataBF16, CuBlasNative.Compute32F, NarrowsInput: true),
        TensorDType.F16 => new GemmTypes(CuBlasNative.DataF16, CuBlasNative.Compute32F, NarrowsInput: true),
        _ => throw new FloverException($"The fast GEMM takes F32, F16 or BF16 weights, not {weights}."),
    };
}
