using Flover.Gpu.Accelerators.Ilgpu;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>
/// cublasGemmEx's contract on the CPU, read from the cuBLAS documentation and nothing of Flover's:
/// C = α·op(A)·op(B) + β·C with every matrix column-major, element (i, j) of a matrix with leading
/// dimension ld at i + j·ld; op(A) is m×k (A itself m×k with lda ≥ max(1, m) when transa is N, k×m
/// with lda ≥ max(1, k) when T), op(B) is k×n (ldb ≥ max(1, k) for N, ≥ max(1, n) for T), C is m×n
/// with ldc ≥ max(1, m). Invalid arguments are refused as cuBLAS refuses them (CUBLAS_STATUS_INVALID_VALUE).
/// Sums run in l order from zero, as Flover's kernels do, so a correct layout gives their bits.
/// </summary>
internal static class ColumnMajorGemm
{
    public static void Run(GemmArguments g, float alpha, float[] a, float[] b, float beta, float[] c)
    {
        if (g.M < 0 || g.N < 0 || g.K < 0
            || g.Lda < Math.Max(1, g.TransA == CuBlasNative.OpN ? g.M : g.K)
            || g.Ldb < Math.Max(1, g.TransB == CuBlasNative.OpN ? g.K : g.N)
            || g.Ldc < Math.Max(1, g.M))
        {
            throw new ArgumentException($"CUBLAS_STATUS_INVALID_VALUE: {g}");
        }

        for (int j = 0; j < g.N; j++)
        {
            for (int i = 0; i < g.M; i++)
            {
                float sum = 0f;
                for (int l = 0; l < g.K; l++)
                {
                    float opA = g.TransA == CuBlasNative.OpN ? a[i + ((long)l * g.Lda)] : a[l + ((long)i * g.Lda)];
                    float opB = g.TransB == CuBlasNative.OpN ? b[l + ((long)j * g.Ldb)] : b[j + ((long)l * g.Ldb)];
                    sum += opA * opB;
                }

                long at = i + ((long)j * g.Ldc);
                c[at] = beta == 0f ? alpha * sum : (alpha * sum) + (beta * c[at]);
            }
        }
    }
}
