using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>
/// The fast GEMM's layout derivation (<see cref="GemmLayout.For"/>) tested without a GPU: its
/// arguments, run through cuBLAS's documented column-major contract (<see cref="ColumnMajorGemm"/>)
/// on Flover's row-major input, input-major weights and row-major output, must give the product
/// Flover's matmul kernel computes, bit for bit.
/// </summary>
public sealed class GemmLayoutTests
{
    [Theory]
    [InlineData(1, 7, 11)]
    [InlineData(3, 5, 2)]
    [InlineData(5, 13, 9)]
    [InlineData(4, 1, 6)]
    [InlineData(9, 16, 1)]
    public void The_arguments_make_column_major_cublas_compute_flovers_row_major_product(int rows, int inputSize, int outputSize)
    {
        (float[] input, float[] weights) = Operands(rows, inputSize, outputSize);
        float[] expected = RowMajorProduct(input, weights, rows, inputSize, outputSize);
        var output = new float[rows * outputSize];

        ColumnMajorGemm.Run(GemmLayout.For(rows, inputSize, outputSize), 1f, weights, input, 0f, output);

        Assert.Equal(expected, output);
    }

    [Fact]
    public void The_arguments_are_no_transposes_with_the_weights_as_a_and_leading_dimensions_n_k_n()
    {
        GemmArguments arguments = GemmLayout.For(rows: 7, inputSize: 768, outputSize: 2304);

        Assert.Equal(new GemmArguments(CuBlasNative.OpN, CuBlasNative.OpN, M: 2304, N: 7, K: 768, Lda: 2304, Ldb: 768, Ldc: 2304), arguments);
    }

    [Fact]
    public void Beta_one_accumulates_into_the_output_as_the_kernels_accumulate_epilogue()
    {
        (float[] input, float[] weights) = Operands(3, 5, 4);
        float[] product = RowMajorProduct(input, weights, 3, 5, 4);
        float[] output = [.. Enumerable.Range(0, 12).Select(i => i * 0.25f)];
        float[] expected = [.. output.Select((value, i) => product[i] + value)];

        ColumnMajorGemm.Run(GemmLayout.For(3, 5, 4), 1f, weights, input, 1f, output);

        Assert.Equal(expected, output);
    }

    [Fact]
    public void The_reference_catches_a_wrong_layout()
    {
        // The reference must be able to fail: the weights read transposed (the usual slip when
        // mapping row-major onto column-major) compute something else, and a leading dimension
        // below cuBLAS's minimum is refused as cuBLAS refuses it.
        (float[] input, float[] weights) = Operands(3, 5, 4);
        float[] expected = RowMajorProduct(input, weights, 3, 5, 4);
        var transposed = new float[12];
        GemmArguments right = GemmLayout.For(3, 5, 4);

        ColumnMajorGemm.Run(right with { TransA = CuBlasNative.OpT, Lda = 5 }, 1f, weights, input, 0f, transposed);

        Assert.NotEqual(expected, transposed);
        Assert.Throws<ArgumentException>(() => ColumnMajorGemm.Run(right with { Ldb = 4 }, 1f, weights, input, 0f, new float[12]));
    }

    [Theory]
    [InlineData(TensorDType.BF16, CuBlasNative.DataBF16, CuBlasNative.Compute32F, true)]
    [InlineData(TensorDType.F16, CuBlasNative.DataF16, CuBlasNative.Compute32F, true)]
    [InlineData(TensorDType.F32, CuBlasNative.DataF32, CuBlasNative.Compute32FFastTf32, false)]
    public void Sixteen_bit_weights_multiply_rounded_activations_with_f32_sums_and_f32_weights_run_as_tf32(TensorDType weights, int dataType, int computeType, bool narrows) =>
        Assert.Equal(new GemmTypes(dataType, computeType, narrows), GemmLayout.TypesFor(weights));

    [Fact]
    public void The_cublas_constants_are_the_headers_values()
    {
        // cublas_api.h and library_types.h (CUDA 12 and 13).
        Assert.Equal((0, 1, 0, 2, 14, 68, 77, -1), (CuBlasNative.OpN, CuBlasNative.OpT, CuBlasNative.DataF32, CuBlasNative.DataF16, CuBlasNative.DataBF16, CuBlasNative.Compute32F, CuBlasNative.Compute32FFastTf32, CuBlasNative.GemmDefault));
        Assert.Equal("CUBLAS_STATUS_EXECUTION_FAILED", CuBlasNative.StatusName(13));
        Assert.Equal("cublasStatus_t 99", CuBlasNative.StatusName(99));
    }

    private static (float[] Input, float[] Weights) Operands(int rows, int inputSize, int outputSize)
    {
        var random = new Random((rows * 1000) + (inputSize * 10) + outputSize);
        float[] input = [.. Enumerable.Range(0, rows * inputSize).Select(_ => (float)(random.NextDouble() * 2) - 1)];
        float[] weights = [.. Enumerable.Range(0, inputSize * outputSize).Select(_ => (float)(random.NextDouble() * 2) - 1)];
        return (input, weights);
    }

    /// <summary>What LinearKernels.MatMul computes: Y[r, n] = Σₖ X[r·K + k] · W[k·N + n], k ascending from zero.</summary>
    private static float[] RowMajorProduct(float[] input, float[] weights, int rows, int inputSize, int outputSize)
    {
        var output = new float[rows * outputSize];
        for (int r = 0; r < rows; r++)
        {
            for (int n = 0; n < outputSize; n++)
            {
                float sum = 0f;
                for (int k = 0; k < inputSize; k++)
                {
                    sum += input[(r * inputSize) + k] * weights[(k * outputSize) + n];
                }

                output[(r * outputSize) + n] = sum;
            }
        }

        return output;
    }
}
