using System.Runtime.InteropServices;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// The few cuBLAS entry points the fast GEMM mode calls (<c>flover.engine.batch-invariant = off</c>),
/// declared here because ILGPU.Algorithms wraps cublasSgemm but not cublasGemmEx. The library name is
/// CUDA 13's soname; <see cref="CudaLibraryResolver"/> maps it (CUBLAS_PATH first, then the usual
/// places), the same probing ILGPU.Algorithms' own cuBLAS import goes through. Enum values are
/// cublas_api.h's and library_types.h's (CUDA 12 and 13 agree).
/// </summary>
internal static partial class CuBlasNative
{
    /// <summary>The soname imported; the resolver decides which file it is.</summary>
    public const string Library = "libcublas.so.13";

    /// <summary><c>CUBLAS_STATUS_SUCCESS</c>.</summary>
    public const int StatusSuccess = 0;

    /// <summary><c>CUBLAS_OP_N</c>: the matrix as stored.</summary>
    public const int OpN = 0;

    /// <summary><c>CUBLAS_OP_T</c>: the matrix transposed.</summary>
    public const int OpT = 1;

    /// <summary><c>CUDA_R_32F</c>.</summary>
    public const int DataF32 = 0;

    /// <summary><c>CUDA_R_16F</c>.</summary>
    public const int DataF16 = 2;

    /// <summary><c>CUDA_R_16BF</c>.</summary>
    public const int DataBF16 = 14;

    /// <summary><c>CUBLAS_COMPUTE_32F</c>: products and sums in F32 (16-bit inputs widen exactly).</summary>
    public const int Compute32F = 68;

    /// <summary><c>CUBLAS_COMPUTE_32F_FAST_TF32</c>: F32 inputs rounded to TF32 (10-bit mantissa) for the tensor cores, sums in F32.</summary>
    public const int Compute32FFastTf32 = 77;

    /// <summary><c>CUBLAS_GEMM_DEFAULT</c>: cuBLAS's heuristics pick the kernel (tensor cores where the types allow).</summary>
    public const int GemmDefault = -1;

    [LibraryImport(Library, EntryPoint = "cublasCreate_v2")]
    public static partial int Create(out nint handle);

    [LibraryImport(Library, EntryPoint = "cublasDestroy_v2")]
    public static partial int Destroy(nint handle);

    [LibraryImport(Library, EntryPoint = "cublasSetStream_v2")]
    public static partial int SetStream(nint handle, nint stream);

    /// <summary>
    /// <c>cublasGemmEx</c>: C = α·op(A)·op(B) + β·C, column-major, op(A) m×k, op(B) k×n, C m×n;
    /// α and β are host floats (the default pointer mode) because the compute type is 32F.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "cublasGemmEx")]
    public static unsafe partial int GemmEx(
        nint handle,
        int transA,
        int transB,
        int m,
        int n,
        int k,
        float* alpha,
        nint a,
        int aType,
        int lda,
        nint b,
        int bType,
        int ldb,
        float* beta,
        nint c,
        int cType,
        int ldc,
        int computeType,
        int algorithm);

    /// <summary>cublasStatus_t's name for <paramref name="status"/>, for error lines.</summary>
    public static string StatusName(int status) => status switch
    {
        0 => "CUBLAS_STATUS_SUCCESS",
        1 => "CUBLAS_STATUS_NOT_INITIALIZED",
        3 => "CUBLAS_STATUS_ALLOC_FAILED",
        7 => "CUBLAS_STATUS_INVALID_VALUE",
        8 => "CUBLAS_STATUS_ARCH_MISMATCH",
        11 => "CUBLAS_STATUS_MAPPING_ERROR",
        13 => "CUBLAS_STATUS_EXECUTION_FAILED",
        14 => "CUBLAS_STATUS_INTERNAL_ERROR",
        15 => "CUBLAS_STATUS_NOT_SUPPORTED",
        16 => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => $"cublasStatus_t {status}",
    };
}
