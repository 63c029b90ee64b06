using Flover.Gpu.Accelerators;
using Flover.Gpu.Models.Llama;

namespace Flover.Host.Benchmarks;

/// <summary>
/// The row kernels beside the matmul: LLaMA's RMSNorm, rotary embeddings and SwiGLU at
/// TinyLlama-1.1B's widths, and GPT-2's LayerNorm and GELU at the same widths, so one run shows
/// what each family's element-wise work costs per element on this machine.
/// </summary>
internal sealed partial class KernelBenchmark
{
    private static readonly LlamaConfig TinyLlama = LlamaPresets.ConfigOf(LlamaPresets.TinyLlama1B);

    /// <summary>Rotary tables hold this many positions; row r takes position r modulo it.</summary>
    private const int RotaryPositions = 256;

    /// <summary>Every row kernel bench-kernels times, LLaMA's then GPT-2's at the same widths.</summary>
    public static IReadOnlyList<RowKernelShape> RowKernelShapes { get; } =
    [
        new("rmsnorm", "llama", TinyLlama.HiddenSize, BytesPerElement: 8),
        new("rotary", "llama", (TinyLlama.HeadCount + TinyLlama.KvHeadCount) * TinyLlama.HeadSize, BytesPerElement: 8),
        new("swiglu", "llama", TinyLlama.IntermediateSize, BytesPerElement: 12),
        new("layernorm", "gpt2", TinyLlama.HiddenSize, BytesPerElement: 8),
        new("gelu", "gpt2", TinyLlama.IntermediateSize, BytesPerElement: 16),
    ];

    /// <summary>
    /// Times <paramref name="kernel"/> on <paramref name="m"/> rows of random data: elements
    /// produced per second, and bytes moved per second (each input read once, each output written once).
    /// </summary>
    public RowKernelMeasurement MeasureRowKernel(RowKernelShape kernel, int m)
    {
        int width = kernel.Width;
        long elements = (long)m * width;
        Action call = kernel.Name switch
        {
            "rmsnorm" => Normalization(m, width, rms: true),
            "layernorm" => Normalization(m, width, rms: false),
            "rotary" => Rotary(m),
            "swiglu" => SwiGlu(m, width),
            "gelu" => Gelu(elements),
            _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel.Name, "Unknown row kernel."),
        };
        double seconds = Time(() =>
        {
            call();
            _accelerator.Synchronize();
        });
        _rowBuffers.ForEach(buffer => buffer.Dispose());
        _rowBuffers.Clear();
        return new RowKernelMeasurement(kernel, m, elements / seconds, elements * kernel.BytesPerElement / seconds);
    }

    private readonly List<IDisposable> _rowBuffers = [];

    private MemoryBuffer<float> Upload(float[] values)
    {
        MemoryBuffer<float> buffer = _accelerator.Allocate<float>(values.Length);
        _accelerator.CopyFromCpu<float>(values, buffer.View);
        _rowBuffers.Add(buffer);
        return buffer;
    }

    private Action Normalization(int m, int width, bool rms)
    {
        ArrayView<float> input = Upload(RandomValues((long)m * width, seed: 11)).View;
        ArrayView<float> output = Upload(new float[(long)m * width]).View;
        ArrayView<float> gain = Upload(RandomValues(width, seed: 12)).View;
        ArrayView<float> bias = Upload(RandomValues(width, seed: 13)).View;
        return rms
            ? () => _accelerator.RmsNorm(input, output, m, width, gain, 1e-5f)
            : () => _accelerator.LayerNorm(input, output, m, width, gain, bias, 1e-5f);
    }

    private Action Rotary(int m)
    {
        LlamaConfig c = TinyLlama;
        ArrayView<float> qkv = Upload(RandomValues((long)m * c.QkvSize, seed: 14)).View;
        // Unit rotations, so repeated calls keep the values' scale (no overflow over thousands of calls).
        var table = new float[RotaryPositions * c.HeadSize];
        for (int p = 0; p < RotaryPositions; p++)
        {
            for (int i = 0; i < c.HeadSize / 2; i++)
            {
                double angle = p * Math.Pow(10000, -2.0 * i / c.HeadSize);
                table[(p * c.HeadSize) + i] = (float)Math.Cos(angle);
                table[(p * c.HeadSize) + (c.HeadSize / 2) + i] = (float)Math.Sin(angle);
            }
        }

        ArrayView<float> rotations = Upload(table).View;
        MemoryBuffer<int> positions = _accelerator.Allocate<int>(m);
        _accelerator.CopyFromCpu<int>([.. Enumerable.Range(0, m).Select(r => r % RotaryPositions)], positions.View);
        _rowBuffers.Add(positions);
        ArrayView<int> rowPositions = positions.View;
        return () => _accelerator.ApplyRotary(qkv, m, rowPositions, c.HeadCount, c.KvHeadCount, c.HeadSize, rotations);
    }

    private Action SwiGlu(int m, int width)
    {
        ArrayView<float> gateUp = Upload(RandomValues((long)m * 2 * width, seed: 15)).View;
        ArrayView<float> output = Upload(new float[(long)m * width]).View;
        return () => _accelerator.SwiGlu(gateUp, m, width, output);
    }

    private Action Gelu(long elements)
    {
        // In place, as GPT-2's c_fc output is activated. Repeated GELU drives every value towards zero
        // (and through subnormals, which can be slow), so each call first restores the input: a copy
        // counted in the bytes (16 per element), negligible beside the activation itself.
        ArrayView<float> pristine = Upload(RandomValues(elements, seed: 16)).View;
        ArrayView<float> values = Upload(new float[elements]).View;
        return () =>
        {
            _accelerator.Copy(pristine, values);
            _accelerator.Activate(values, KernelActivation.GeluTanh);
        };
    }
}

/// <summary>A row kernel at one row width; <paramref name="BytesPerElement"/>: bytes read and written per output element.</summary>
internal sealed record RowKernelShape(string Name, string Family, int Width, int BytesPerElement);

/// <summary>One row kernel × row count: output elements per second and bytes moved per second.</summary>
internal sealed record RowKernelMeasurement(RowKernelShape Kernel, int M, double ElementsPerSecond, double BytesPerSecond);
