using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Accelerators;

public sealed class CpuKernelTests
{
    private static Accelerator Cpu(int threads) => new AcceleratorContext(new EngineOptions(threads)).CreateDefault();

    private static float[] Random(int seed, int count)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
    }

    /// <summary>Runs one matmul of random data; returns the output and the float64 reference.</summary>
    private static (float[] Actual, double[] Expected) MatMul(int threads, int m, int k, int n, MatrixLayout layout, KernelActivation activation, bool accumulate, int seed = 1, TensorDType dtype = TensorDType.F32, float[]? weightValues = null, float[]? inputValues = null)
    {
        float[] x = inputValues ?? Random(seed, m * k);
        float[] w = weightValues ?? Random(seed + 1, k * n);
        float[] bias = Random(seed + 2, n);
        float[] initial = Random(seed + 3, m * n);
        using var weights = new NativeModelWeights(TinyConfig(), "kernel test");
        weights.Add("w", TensorDType.F32, w, layout == MatrixLayout.InputMajor ? [k, n] : [n, k]);
        using Accelerator accelerator = Cpu(threads);
        using DeviceMatrix matrix = accelerator.UploadMatrix(weights.Get("w"), layout, dtype);
        // The reference multiplies the values the matrix holds: rounded to the half format if narrowed.
        w = dtype switch
        {
            TensorDType.F16 => [.. w.Select(value => (float)(Half)value)],
            TensorDType.BF16 => [.. w.Select(value => BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(value)))],
            _ => w,
        };
        using MemoryBuffer<float> input = accelerator.Allocate<float>(m * k);
        using MemoryBuffer<float> biasBuffer = accelerator.Allocate<float>(n);
        using MemoryBuffer<float> output = accelerator.Allocate<float>(m * n);
        accelerator.CopyFromCpu<float>(x, input.View);
        accelerator.CopyFromCpu<float>(bias, biasBuffer.View);
        accelerator.CopyFromCpu<float>(initial, output.View);

        accelerator.MatMul(input.View, m, matrix, biasBuffer.View, output.View, activation, accumulate);

        var actual = new float[m * n];
        accelerator.CopyToCpu(output.View, actual);
        var expected = new double[m * n];
        for (int row = 0; row < m; row++)
        {
            for (int column = 0; column < n; column++)
            {
                double sum = bias[column];
                for (int i = 0; i < k; i++)
                {
                    double weight = layout == MatrixLayout.InputMajor ? w[(i * n) + column] : w[(column * k) + i];
                    sum += x[(row * k) + i] * weight;
                }

                sum = activation == KernelActivation.Relu ? Math.Max(sum, 0) : sum;
                expected[(row * n) + column] = accumulate ? initial[(row * n) + column] + sum : sum;
            }
        }

        return (actual, expected);
    }

    private static Gpt2Config TinyConfig() => new(1, 1, 8, 8, 32, 10, 1e-5f, Gpt2Activation.GeluTanh, 0, 9);

    [Theory]
    [InlineData(1, 1, 1, MatrixLayout.InputMajor)]
    [InlineData(5, 37, 129, MatrixLayout.InputMajor)]
    [InlineData(9, 64, 64, MatrixLayout.OutputMajor)]
    [InlineData(4, 13, 200, MatrixLayout.OutputMajor)]
    [InlineData(17, 100, 65, MatrixLayout.InputMajor)]
    public void Matmul_matches_a_float64_reference_on_odd_shapes(int m, int k, int n, MatrixLayout layout)
    {
        (float[] actual, double[] expected) = MatMul(threads: 3, m, k, n, layout, KernelActivation.None, accumulate: false);

        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Sqrt(k), $"element {i}: {actual[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [InlineData(1, 37, 129, MatrixLayout.InputMajor, TensorDType.F16)]
    [InlineData(4, 13, 200, MatrixLayout.OutputMajor, TensorDType.F16)]
    [InlineData(7, 64, 64, MatrixLayout.InputMajor, TensorDType.BF16)]
    [InlineData(17, 100, 65, MatrixLayout.InputMajor, TensorDType.F16)]
    [InlineData(20, 33, 70, MatrixLayout.OutputMajor, TensorDType.BF16)]
    public void Half_precision_matmul_matches_a_float64_reference_of_the_rounded_weights(int m, int k, int n, MatrixLayout layout, TensorDType dtype)
    {
        (float[] actual, double[] expected) = MatMul(threads: 2, m, k, n, layout, KernelActivation.None, accumulate: false, dtype: dtype);

        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Sqrt(k), $"element {i}: {actual[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Half_precision_rows_are_bitwise_the_same_in_every_kernel_path(TensorDType dtype)
    {
        // 20 rows widen the panel into scratch, 6 rows use a four-row block and single rows, 1 row streams.
        (float[] many, _) = MatMul(threads: 3, 20, 50, 150, MatrixLayout.InputMajor, KernelActivation.None, accumulate: false, dtype: dtype);
        (float[] some, _) = MatMul(threads: 2, 6, 50, 150, MatrixLayout.InputMajor, KernelActivation.None, accumulate: false, dtype: dtype);
        (float[] one, _) = MatMul(threads: 1, 1, 50, 150, MatrixLayout.InputMajor, KernelActivation.None, accumulate: false, dtype: dtype);
        // The same rounded weights held as F32: the F32 kernels, fed the values the half panels widen to.
        float[] rounded = [.. Random(2, 50 * 150).Select(value => dtype == TensorDType.F16 ? (float)(Half)value : BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(value)))];
        (float[] widened, _) = MatMul(threads: 1, 6, 50, 150, MatrixLayout.InputMajor, KernelActivation.None, accumulate: false, weightValues: rounded);

        Assert.Equal(some, many[..some.Length]);
        Assert.Equal(one, many[..one.Length]);
        Assert.Equal(widened, some);
    }

    [Theory]
    [InlineData(65535.99f)]
    [InlineData(65536f)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NaN)]
    public void Few_row_f16_matmul_is_bitwise_the_f32_kernels_on_extreme_weights_and_inputs(float largest)
    {
        // Few rows scale the input by 2^112 and skip the weights' rebias (RebiasedF16Format) while every
        // |x| < 2^16, and take the plain widening otherwise; either way the widened F32 weights' bits.
        const int k = 40, n = 70, m = 3;
        float[] extremes = [65504f, -65504f, 6.1035156e-05f, 5.9604645e-08f, -5.9604645e-08f, 1.1920929e-07f * 3, 0f, -0f, 1f, -0.33325195f];
        float[] w = [.. Enumerable.Range(0, k * n).Select(i => (float)(Half)(extremes[i % extremes.Length] * (i % 7 == 0 ? 1 : 0.5f)))];
        float[] x = Random(5, m * k);
        x[3] = 1e-40f;
        x[k + 7] = -65535f;
        x[(2 * k) + 11] = largest;
        (float[] half, _) = MatMul(threads: 2, m, k, n, MatrixLayout.InputMajor, KernelActivation.None, accumulate: false, dtype: TensorDType.F16, weightValues: w, inputValues: x);
        (float[] single, _) = MatMul(threads: 1, m, k, n, MatrixLayout.InputMajor, KernelActivation.None, accumulate: false, weightValues: w, inputValues: x);

        Assert.Equal(single.Select(BitConverter.SingleToUInt32Bits), half.Select(BitConverter.SingleToUInt32Bits));
    }

    [Fact]
    public void An_f16_matrix_holding_an_infinity_computes_it_faithfully()
    {
        float[] w = Random(2, 10 * 40);
        w[(3 * 40) + 5] = float.PositiveInfinity;
        (float[] actual, double[] expected) = MatMul(threads: 1, 2, 10, 40, MatrixLayout.InputMajor, KernelActivation.None, accumulate: false, dtype: TensorDType.F16, weightValues: w);

        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsFinite(expected[i]))
            {
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5, $"element {i}: {actual[i]} vs {expected[i]}");
            }
            else
            {
                Assert.Equal(expected[i], actual[i]);
            }
        }
    }

    [Fact]
    public void Matmul_with_several_panels_per_chunk_matches_the_reference_and_every_thread_count()
    {
        // 41 panels: one worker takes them two at a time, two workers one at a time.
        (float[] one, double[] expected) = MatMul(threads: 1, 3, 8, 2600, MatrixLayout.OutputMajor, KernelActivation.None, accumulate: false);
        (float[] two, _) = MatMul(threads: 2, 3, 8, 2600, MatrixLayout.OutputMajor, KernelActivation.None, accumulate: false);

        Assert.Equal(one, two);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(one[i] - expected[i]) <= 1e-5, $"element {i}: {one[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Matmul_with_relu_and_accumulate_adds_the_activated_result_to_the_output()
    {
        (float[] actual, double[] expected) = MatMul(threads: 2, 6, 20, 70, MatrixLayout.InputMajor, KernelActivation.Relu, accumulate: true);

        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5, $"element {i}: {actual[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Each_matmul_output_row_is_bitwise_the_same_whatever_the_row_count_and_thread_count()
    {
        (float[] many, _) = MatMul(threads: 4, 11, 50, 150, MatrixLayout.InputMajor, KernelActivation.None, accumulate: false);
        (float[] fewer, _) = MatMul(threads: 1, 3, 50, 150, MatrixLayout.InputMajor, KernelActivation.None, accumulate: false);

        // Same seeds: the first three rows of the 11-row input are the 3-row input's rows.
        Assert.Equal(fewer, many[..fewer.Length]);
    }

    [Fact]
    public void Layer_norm_matches_a_float64_reference()
    {
        const int rows = 3;
        const int width = 37;
        float[] x = Random(5, rows * width);
        float[] gain = Random(6, width);
        float[] bias = Random(7, width);
        using Accelerator accelerator = Cpu(2);
        using MemoryBuffer<float> input = accelerator.Allocate<float>(x.Length);
        using MemoryBuffer<float> output = accelerator.Allocate<float>(x.Length);
        using MemoryBuffer<float> gainBuffer = accelerator.Allocate<float>(width);
        using MemoryBuffer<float> biasBuffer = accelerator.Allocate<float>(width);
        accelerator.CopyFromCpu<float>(x, input.View);
        accelerator.CopyFromCpu<float>(gain, gainBuffer.View);
        accelerator.CopyFromCpu<float>(bias, biasBuffer.View);

        accelerator.LayerNorm(input.View, output.View, rows, width, gainBuffer.View, biasBuffer.View, 1e-5f);

        var actual = new float[x.Length];
        accelerator.CopyToCpu(output.View, actual);
        for (int row = 0; row < rows; row++)
        {
            double[] values = x.Skip(row * width).Take(width).Select(v => (double)v).ToArray();
            double mean = values.Average();
            double inverse = 1 / Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average() + 1e-5);
            for (int i = 0; i < width; i++)
            {
                Assert.InRange(actual[(row * width) + i] - (((values[i] - mean) * inverse * gain[i]) + bias[i]), -1e-5, 1e-5);
            }
        }
    }

    [Theory]
    [InlineData(KernelActivation.GeluTanh, -1.5f, -0.10042843)]
    [InlineData(KernelActivation.GeluExact, -1.5f, -0.10021080)]
    [InlineData(KernelActivation.GeluExact, 3.5f, 3.49918594)]
    [InlineData(KernelActivation.Relu, -2f, 0)]
    [InlineData(KernelActivation.None, -2f, -2)]
    public void Activations_match_their_formulas(KernelActivation activation, float input, double expected)
    {
        using Accelerator accelerator = Cpu(1);
        using MemoryBuffer<float> values = accelerator.Allocate<float>(1);
        accelerator.CopyFromCpu<float>([input], values.View);

        accelerator.Activate(values.View, activation);

        var actual = new float[1];
        accelerator.CopyToCpu(values.View, actual);
        Assert.InRange(actual[0] - expected, -1e-6, 1e-6);
    }

    [Fact]
    public void A_view_from_another_accelerator_is_rejected()
    {
        using Accelerator first = Cpu(1);
        using Accelerator second = Cpu(1);
        using MemoryBuffer<float> buffer = first.Allocate<float>(4);

        var error = Assert.Throws<ArgumentException>(() => second.CopyFromCpu<float>([1, 2, 3, 4], buffer.View));
        Assert.Contains("another accelerator", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Kernels_of_one_cpu_accelerator_may_use_another_cpu_accelerators_buffers()
    {
        // What lets model instances, each with its own workers, share one upload of the weights.
        using Accelerator first = Cpu(1);
        using Accelerator second = Cpu(1);
        using MemoryBuffer<float> values = first.Allocate<float>(2);
        first.CopyFromCpu<float>([-2, 3], values.View);

        second.Activate(values.View, KernelActivation.Relu);

        var actual = new float[2];
        first.CopyToCpu(values.View, actual);
        Assert.Equal([0f, 3f], actual);
        Assert.True(second.SharesMemoryWith(first));
    }

    [Fact]
    public void A_sub_view_outside_its_view_is_rejected()
    {
        using Accelerator accelerator = Cpu(1);
        using MemoryBuffer<float> buffer = accelerator.Allocate<float>(10);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => buffer.View.SubView(8, 3));
        Assert.Contains("[8, 11)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_too_short_output_view_is_rejected_before_any_work()
    {
        using Accelerator accelerator = Cpu(1);
        using MemoryBuffer<float> input = accelerator.Allocate<float>(8);
        using MemoryBuffer<float> gain = accelerator.Allocate<float>(8);
        using MemoryBuffer<float> output = accelerator.Allocate<float>(4);

        var error = Assert.Throws<ArgumentException>(() => accelerator.LayerNorm(input.View, output.View, 1, 8, gain.View, gain.View, 1e-5f));
        Assert.Contains("needs 8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_thread_setting_is_rejected_naming_the_setting()
    {
        var error = Assert.Throws<FloverException>(() => new AcceleratorContext(new EngineOptions(-1)));
        Assert.Contains("flover.engine.threads", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Zero_threads_means_one_worker_per_core()
    {
        Assert.Equal(Environment.ProcessorCount, new EngineOptions(0).ResolveThreadCount());
    }
}
