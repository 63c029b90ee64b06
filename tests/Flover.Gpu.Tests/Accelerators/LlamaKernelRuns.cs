using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>Runs LLaMA's row kernels through a CPU accelerator's public API on host arrays, for the kernel tests.</summary>
internal static class LlamaKernelRuns
{
    public static Accelerator Cpu(int threads) => new AcceleratorContext(new EngineOptions(threads)).CreateDefault();

    /// <summary><paramref name="count"/> values uniform in [−scale, scale], seeded.</summary>
    public static float[] Values(int seed, int count, double scale)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)(((random.NextDouble() * 2) - 1) * scale))];
    }

    /// <summary>Rope θ = 10 000: per position, headSize / 2 cosines then as many sines.</summary>
    public static float[] RotaryTable(int positions, int headSize)
    {
        int half = headSize / 2;
        var table = new float[positions * headSize];
        for (int p = 0; p < positions; p++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = p * Math.Pow(10000, -2.0 * i / headSize);
                table[(p * headSize) + i] = (float)Math.Cos(angle);
                table[(p * headSize) + half + i] = (float)Math.Sin(angle);
            }
        }

        return table;
    }

    public static MemoryBuffer<T> Upload<T>(Accelerator accelerator, T[] values)
        where T : unmanaged
    {
        MemoryBuffer<T> buffer = accelerator.Allocate<T>(Math.Max(1, values.Length));
        accelerator.CopyFromCpu<T>(values, buffer.View.SubView(0, values.Length));
        return buffer;
    }

    public static float[] RmsNorm(int threads, float[] x, int rows, int width, float[] gain)
    {
        using Accelerator accelerator = Cpu(threads);
        using MemoryBuffer<float> input = Upload(accelerator, x);
        using MemoryBuffer<float> output = accelerator.Allocate<float>(Math.Max(1, rows * width));
        using MemoryBuffer<float> gains = Upload(accelerator, gain);
        accelerator.RmsNorm(input.View, output.View, rows, width, gains.View, 1e-5f);
        return Read(accelerator, output, rows * width);
    }

    public static float[] Rotary(int threads, float[] qkv, int rows, int[] positions, int queryHeads, int kvHeads, int headSize, float[] table)
    {
        using Accelerator accelerator = Cpu(threads);
        using MemoryBuffer<float> values = Upload(accelerator, qkv);
        using MemoryBuffer<int> rowPositions = Upload(accelerator, positions);
        using MemoryBuffer<float> rotations = Upload(accelerator, table);
        accelerator.ApplyRotary(values.View, rows, rowPositions.View, queryHeads, kvHeads, headSize, rotations.View);
        return Read(accelerator, values, qkv.Length);
    }

    public static float[] SwiGlu(int threads, float[] gateUp, int rows, int width)
    {
        using Accelerator accelerator = Cpu(threads);
        using MemoryBuffer<float> input = Upload(accelerator, gateUp);
        using MemoryBuffer<float> output = accelerator.Allocate<float>(Math.Max(1, rows * width));
        accelerator.SwiGlu(input.View, rows, width, output.View);
        return Read(accelerator, output, rows * width);
    }

    private static float[] Read(Accelerator accelerator, MemoryBuffer<float> buffer, int length)
    {
        var values = new float[length];
        accelerator.CopyToCpu(buffer.View.SubView(0, length), values);
        return values;
    }
}
