using System.Runtime.InteropServices;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Kernels.Cpu;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// A K × N weight matrix packed into column panels for <see cref="MatMulKernel"/>:
/// <c>[panel][k][PanelWidth]</c>, the last panel padded with zeros. A panel is one contiguous stream,
/// so a worker reads its panels front to back, and every output column of a panel is reduced by the
/// same FMA sequence over k.
/// </summary>
internal sealed unsafe class CpuMatrix : DeviceMatrix
{
    private CpuMatrix(Accelerator accelerator, string name, int inputSize, int outputSize)
        : base(accelerator, name, inputSize, outputSize)
    {
        PanelCount = (outputSize + MatMulKernel.PanelWidth - 1) / MatMulKernel.PanelWidth;
        long elements = (long)PanelCount * inputSize * MatMulKernel.PanelWidth;
        Panels = (float*)NativeMemory.AlignedAlloc((nuint)(elements * sizeof(float)), 64);
        NativeMemory.Clear(Panels, (nuint)(elements * sizeof(float)));
        ByteSize = elements * sizeof(float);
    }

    ~CpuMatrix()
    {
        DisposeCore();
    }

    /// <summary>Number of <see cref="MatMulKernel.PanelWidth"/>-column panels.</summary>
    public int PanelCount { get; }

    /// <summary>The packed panels.</summary>
    public float* Panels { get; private set; }

    /// <inheritdoc />
    public override long ByteSize { get; }

    /// <summary>Packs <paramref name="tensor"/> (F32, F16 or BF16, widened exactly) into panels.</summary>
    public static CpuMatrix Pack(Accelerator accelerator, TensorView tensor, MatrixLayout layout)
    {
        long rows = tensor.Shape[0];
        long columns = tensor.Shape[1];
        (long k, long n) = layout == MatrixLayout.InputMajor ? (rows, columns) : (columns, rows);
        if (k > int.MaxValue || n > int.MaxValue)
        {
            throw new FloverException($"Tensor '{tensor.Name}' [{rows}, {columns}] is too large for a matmul weight.");
        }

        var values = new float[tensor.ElementCount];
        tensor.CopyToSingle(values);
        var matrix = new CpuMatrix(accelerator, tensor.Name, (int)k, (int)n);
        matrix.Fill(values, layout);
        return matrix;
    }

    private void Fill(float[] values, MatrixLayout layout)
    {
        const int width = MatMulKernel.PanelWidth;
        int k = InputSize;
        int n = OutputSize;
        for (int panel = 0; panel < PanelCount; panel++)
        {
            int firstColumn = panel * width;
            int columns = Math.Min(width, n - firstColumn);
            float* destination = Panels + ((long)panel * k * width);
            for (int row = 0; row < k; row++)
            {
                float* target = destination + ((long)row * width);
                for (int column = 0; column < columns; column++)
                {
                    int j = firstColumn + column;
                    target[column] = layout == MatrixLayout.InputMajor ? values[((long)row * n) + j] : values[((long)j * k) + row];
                }
            }
        }
    }

    protected override void DisposeCore()
    {
        if (Panels != null)
        {
            NativeMemory.AlignedFree(Panels);
            Panels = null;
        }
    }
}
