using System.Diagnostics;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Host.Benchmarks;

/// <summary>
/// Times Flover's matmul against OpenBLAS on the same shapes, data and thread count, side by side in
/// one process: each measurement is the best of several timed batches of calls, each batch long
/// enough (≈ 50 ms) for the timer not to matter. OpenBLAS always multiplies F32 (it has no half
/// GEMM); Flover multiplies the weights held in the precision asked for. LLaMA's shapes are also
/// timed with the weights stored as GPT-2 stores its own (<see cref="KernelShape.Transposed"/>
/// flipped): the same product through the same kernel, so the two figures should agree.
/// </summary>
internal sealed unsafe partial class KernelBenchmark : IDisposable
{
    private const double BatchSeconds = 0.05;
    private const int Batches = 5;
    private const double WarmupSeconds = 0.5;

    /// <summary>Alternating timings of the two weight layouts of a LLaMA shape.</summary>
    private const int ComparisonRounds = 3;

    private readonly Accelerator _accelerator;
    private readonly OpenBlas? _openBlas;
    private readonly int _threads;

    public KernelBenchmark(EngineOptions engine, OpenBlas? openBlas)
    {
        _threads = engine.ResolveThreadCount();
        // The CPU engine only: the point is SIMD kernels against OpenBLAS on the same cores and threads,
        // which means nothing for a GPU (the GPU check, Flover.GpuCheck --bench, times device kernels).
        _accelerator = DeviceAccelerators.Open(DeviceSpec.Cpu, engine);
        _openBlas = openBlas;
        _openBlas?.SetThreads(_threads);
    }

    /// <summary>What runs the kernels (SIMD width, workers).</summary>
    public string Device => _accelerator.Device.Details;

    /// <summary>GPT-2 124M's matmul shapes: the four per layer and the LM head.</summary>
    public static IReadOnlyList<KernelShape> Gpt2Shapes { get; } =
    [
        new("attn.c_attn", 768, 2304, Transposed: false),
        new("attn.c_proj", 768, 768, Transposed: false),
        new("mlp.c_fc", 768, 3072, Transposed: false),
        new("mlp.c_proj", 3072, 768, Transposed: false),
        new("lm_head", 768, 50257, Transposed: true),
    ];

    /// <summary>
    /// TinyLlama-1.1B's matmul shapes as the LLaMA model runs them: q/k/v fused (32 + 2 × 4 heads of
    /// 64), o, gate/up fused (2 × 5632), down and the LM head, all stored [N, K] as nn.Linear does.
    /// </summary>
    public static IReadOnlyList<KernelShape> LlamaShapes { get; } =
    [
        new("llama.qkv", 2048, 2560, Transposed: true),
        new("llama.o", 2048, 2048, Transposed: true),
        new("llama.gate_up", 2048, 11264, Transposed: true),
        new("llama.down", 5632, 2048, Transposed: true),
        new("llama.lm_head", 2048, 32000, Transposed: true),
    ];

    /// <summary>Every shape bench-kernels knows, GPT-2's first.</summary>
    public static IReadOnlyList<KernelShape> AllShapes { get; } = [.. Gpt2Shapes, .. LlamaShapes];

    /// <summary>Measures one shape at every row count, for every precision.</summary>
    public void Measure(KernelShape shape, IReadOnlyList<int> rowCounts, IReadOnlyList<TensorDType> dtypes, Action<KernelMeasurement> measured)
    {
        float[] weights = RandomValues(shape.K * shape.N, seed: shape.K + shape.N);
        float[] input = RandomValues(rowCounts.Max() * shape.K, seed: 7);
        using var stored = new NativeModelWeights(Gpt2Presets.ConfigOf(Gpt2Presets.Tiny), "bench-kernels");
        stored.Add(shape.Name, TensorDType.F32, weights, shape.Transposed ? [shape.N, shape.K] : [shape.K, shape.N]);
        using MemoryBuffer<float> inputBuffer = _accelerator.Allocate<float>(input.Length);
        using MemoryBuffer<float> output = _accelerator.Allocate<float>((long)rowCounts.Max() * shape.N);
        _accelerator.CopyFromCpu<float>(input, inputBuffer.View);
        var blasOutput = new float[(long)rowCounts.Max() * shape.N];
        var ours = new float[blasOutput.Length];
        var blasGflops = new Dictionary<int, double>();
        bool llama = LlamaShapes.Contains(shape);
        if (llama)
        {
            // GPT-2 stores the same K × N product [K, N] (Conv1D): the same values, transposed.
            stored.Add(shape.Name + ".gpt2", TensorDType.F32, Transpose(weights, shape.N, shape.K), [shape.K, shape.N]);
        }

        foreach (TensorDType dtype in dtypes)
        {
            using DeviceMatrix matrix = _accelerator.UploadMatrix(stored.Get(shape.Name), shape.Transposed ? MatrixLayout.OutputMajor : MatrixLayout.InputMajor, dtype);
            using DeviceMatrix? gpt2Matrix = llama ? _accelerator.UploadMatrix(stored.Get(shape.Name + ".gpt2"), MatrixLayout.InputMajor, dtype) : null;
            foreach (int m in rowCounts)
            {
                double flops = 2.0 * m * shape.K * shape.N;
                // An accelerator may run kernels asynchronously until a synchronisation point (a GPU
                // stream does): each timed call synchronises, or only the launch would be timed.
                Action run = () =>
                {
                    _accelerator.MatMul(inputBuffer.View, m, matrix, default, output.View, KernelActivation.None, accumulate: false);
                    _accelerator.Synchronize();
                };
                double seconds = Time(run);
                double? gpt2Layout = null;
                if (gpt2Matrix is not null)
                {
                    // Interleaved rounds, best of each: on a shared machine a burst of other work during
                    // one timing would otherwise pass for a difference between the two layouts.
                    double gpt2Seconds = double.MaxValue;
                    for (int round = 0; round < ComparisonRounds; round++)
                    {
                        gpt2Seconds = Math.Min(gpt2Seconds, Time(() =>
                        {
                            _accelerator.MatMul(inputBuffer.View, m, gpt2Matrix, default, output.View, KernelActivation.None, accumulate: false);
                            _accelerator.Synchronize();
                        }));
                        // Ours last, so the output compared with OpenBLAS below is this layout's.
                        seconds = Math.Min(seconds, Time(run));
                    }

                    gpt2Layout = flops / gpt2Seconds / 1e9;
                }

                double? blas = null;
                double? difference = null;
                if (_openBlas is not null)
                {
                    if (!blasGflops.TryGetValue(m, out double cached))
                    {
                        fixed (float* a = input, w = weights, c = blasOutput)
                        {
                            nint pa = (nint)a, pw = (nint)w, pc = (nint)c;
                            cached = flops / Time(() => _openBlas.Multiply((float*)pa, m, shape.K, (float*)pw, shape.N, shape.Transposed, (float*)pc)) / 1e9;
                        }

                        blasGflops[m] = cached;
                    }

                    blas = cached;
                    _accelerator.CopyToCpu(output.View.SubView(0, (long)m * shape.N), ours.AsSpan(0, m * shape.N));
                    fixed (float* a = input, w = weights, c = blasOutput)
                    {
                        _openBlas.Multiply(a, m, shape.K, w, shape.N, shape.Transposed, c);
                    }

                    difference = RelativeL2(ours.AsSpan(0, m * shape.N), blasOutput.AsSpan(0, m * shape.N));
                }

                measured(new KernelMeasurement(shape, m, dtype, flops / seconds / 1e9, blas, difference, gpt2Layout));
            }
        }
    }

    public void Dispose() => _accelerator.Dispose();

    /// <summary>Best seconds per call over <see cref="Batches"/> timed batches.</summary>
    internal static double Time(Action call)
    {
        // Calls for WarmupSeconds first: a microsecond kernel is otherwise timed partly in the JIT's
        // first-tier code (tier-up comes after 30 calls and a 100 ms quiet period, later when other
        // work starves the background compiler), which showed as a 2-10x spread between runs of the
        // same build on the loaded 2-core machine (0.2 s of warm-up was not always enough there).
        long warmup = Stopwatch.GetTimestamp();
        do
        {
            call();
        }
        while (Stopwatch.GetElapsedTime(warmup).TotalSeconds < WarmupSeconds);

        long warm = Stopwatch.GetTimestamp();
        call();
        double once = Math.Max(Stopwatch.GetElapsedTime(warm).TotalSeconds, 1e-7);
        int calls = Math.Max(1, (int)(BatchSeconds / once));
        double best = double.MaxValue;
        for (int batch = 0; batch < Batches; batch++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++)
            {
                call();
            }

            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds / calls);
        }

        return best;
    }

    /// <summary><paramref name="values"/> [rows, columns] as [columns, rows].</summary>
    private static float[] Transpose(float[] values, int rows, int columns)
    {
        var transposed = new float[values.Length];
        for (int row = 0; row < rows; row++)
        {
            for (int column = 0; column < columns; column++)
            {
                transposed[((long)column * rows) + row] = values[((long)row * columns) + column];
            }
        }

        return transposed;
    }

    internal static float[] RandomValues(long count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (long i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    private static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double error = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - expected[i];
            error += d * d;
            norm += (double)expected[i] * expected[i];
        }

        return Math.Sqrt(error / Math.Max(norm, double.Epsilon));
    }
}

/// <summary>A weight matrix shape: K inputs, N outputs, and whether it is stored [N, K].</summary>
internal sealed record KernelShape(string Name, int K, int N, bool Transposed);

/// <summary>
/// One shape × row count × precision: Flover's GFLOP/s, OpenBLAS's (F32), how far apart their
/// outputs are, and for LLaMA's shapes Flover's GFLOP/s on the same product stored as GPT-2 stores it.
/// </summary>
internal sealed record KernelMeasurement(KernelShape Shape, int M, TensorDType DType, double Gflops, double? OpenBlasGflops, double? RelativeDifference, double? Gpt2LayoutGflops);
