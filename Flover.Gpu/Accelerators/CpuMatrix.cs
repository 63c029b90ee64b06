using Flover.Gpu.Checkpoints;
using Flover.Gpu.Kernels.Cpu;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// A K × N weight matrix packed into column panels for <see cref="MatMulKernel"/>:
/// <c>[panel][k][PanelWidth]</c>, the last panel padded with zeros, elements held as F32, F16 or BF16
/// (<see cref="DeviceMatrix.ElementType"/>). A panel is one contiguous stream, so a worker reads its
/// panels front to back, and every output column of a panel is reduced by the same FMA sequence over k.
/// Half-precision panels halve the bytes a decode step streams; the kernel widens them exactly.
/// </summary>
internal sealed unsafe class CpuMatrix : DeviceMatrix
{
    private CpuMatrix(Accelerator accelerator, string name, int inputSize, int outputSize, TensorDType elementType)
        : base(accelerator, name, inputSize, outputSize, elementType)
    {
        PanelCount = (outputSize + MatMulKernel.PanelWidth - 1) / MatMulKernel.PanelWidth;
        PanelElements = (long)inputSize * MatMulKernel.PanelWidth;
        long bytes = PanelCount * PanelElements * elementType.ByteSize();
        Data = HostMemory.Allocate(bytes);
        ByteSize = bytes;
        // A decode step streams every panel once: huge pages keep that stream free of TLB misses.
        HugePages.Advise((byte*)Data, bytes);
    }

    ~CpuMatrix()
    {
        DisposeCore();
    }

    /// <summary>Number of <see cref="MatMulKernel.PanelWidth"/>-column panels.</summary>
    public int PanelCount { get; }

    /// <summary>Elements per panel: K × <see cref="MatMulKernel.PanelWidth"/>.</summary>
    public long PanelElements { get; }

    /// <summary>The packed panels, elements of <see cref="DeviceMatrix.ElementType"/>.</summary>
    public void* Data { get; private set; }

    /// <summary>The packed panels of an F32 matrix.</summary>
    public float* Panels => (float*)Data;

    /// <summary>The packed panels of an F16 or BF16 matrix (raw bits).</summary>
    public ushort* HalfPanels => (ushort*)Data;

    /// <inheritdoc />
    public override long ByteSize { get; }

    /// <summary>
    /// Packs <paramref name="tensor"/> into panels of <paramref name="elementType"/>: a tensor already in
    /// that type is copied bit for bit, F16/BF16 into F32 widen exactly, and F32 (or the other half
    /// format) into F16/BF16 rounds to nearest, ties to even.
    /// </summary>
    public static CpuMatrix Pack(Accelerator accelerator, TensorView tensor, MatrixLayout layout, TensorDType elementType)
    {
        long rows = tensor.Shape[0];
        long columns = tensor.Shape[1];
        (long k, long n) = layout == MatrixLayout.InputMajor ? (rows, columns) : (columns, rows);
        if (k > int.MaxValue || n > int.MaxValue)
        {
            throw new FloverException($"Tensor '{tensor.Name}' [{rows}, {columns}] is too large for a matmul weight.");
        }

        var matrix = new CpuMatrix(accelerator, tensor.Name, (int)k, (int)n, elementType);
        if (elementType != TensorDType.F32 && tensor.DType == elementType)
        {
            matrix.Fill((ushort*)tensor.Pointer, matrix.HalfPanels, layout);
            matrix.ChooseEncoding();
            return matrix;
        }

        var values = new float[tensor.ElementCount];
        tensor.CopyToSingle(values);
        if (elementType == TensorDType.F32)
        {
            fixed (float* source = values)
            {
                matrix.Fill(source, matrix.Panels, layout);
            }

            return matrix;
        }

        var narrowed = new ushort[values.Length];
        for (long i = 0; i < values.LongLength; i++)
        {
            narrowed[i] = elementType == TensorDType.BF16 ? BFloat16Bits.FromSingle(values[i]) : HalfWidening.NarrowToF16(values[i]);
        }

        fixed (ushort* source = narrowed)
        {
            matrix.Fill(source, matrix.HalfPanels, layout);
        }

        matrix.ChooseEncoding();
        return matrix;
    }

    /// <summary>How the kernel widens the panels (<see cref="HalfEncoding.None"/> for F32).</summary>
    public HalfEncoding HalfEncoding { get; private set; }

    /// <summary>
    /// Copies column <paramref name="column"/> (K values, widened to F32) into <paramref name="destination"/>:
    /// for a tied LM head this is the token embedding of token <paramref name="column"/>, so the
    /// embedding table need not be held a second time.
    /// </summary>
    public void ReadColumn(int column, float* destination)
    {
        const int width = MatMulKernel.PanelWidth;
        long offset = ((column / width) * PanelElements) + (column % width);
        int k = InputSize;
        switch (ElementType)
        {
            case TensorDType.F32:
                for (int i = 0; i < k; i++)
                {
                    destination[i] = Panels[offset + ((long)i * width)];
                }

                break;
            case TensorDType.BF16:
                for (int i = 0; i < k; i++)
                {
                    destination[i] = BFloat16Bits.ToSingle(HalfPanels[offset + ((long)i * width)]);
                }

                break;
            default:
                for (int i = 0; i < k; i++)
                {
                    destination[i] = (float)BitConverter.UInt16BitsToHalf(HalfPanels[offset + ((long)i * width)]);
                }

                break;
        }
    }

    private void ChooseEncoding() => HalfEncoding = ElementType switch
    {
        TensorDType.BF16 => HalfEncoding.BF16,
        // The four-instruction F16 widening is exact for finite values only; a matrix holding an
        // infinity or a NaN (a broken checkpoint, but still to be computed faithfully) takes the
        // slower widening that restores them.
        TensorDType.F16 => HalfWidening.AnyNonFiniteF16(HalfPanels, PanelCount * PanelElements) ? HalfEncoding.F16 : HalfEncoding.FiniteF16,
        _ => HalfEncoding.None,
    };

    private void Fill<T>(T* values, T* panels, MatrixLayout layout)
        where T : unmanaged
    {
        const int width = MatMulKernel.PanelWidth;
        int k = InputSize;
        int n = OutputSize;
        for (int panel = 0; panel < PanelCount; panel++)
        {
            int firstColumn = panel * width;
            int columns = Math.Min(width, n - firstColumn);
            T* destination = panels + (panel * PanelElements);
            for (int row = 0; row < k; row++)
            {
                T* target = destination + ((long)row * width);
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
        if (Data != null)
        {
            HostMemory.Free(Data, ByteSize);
            Data = null;
        }
    }
}

/// <summary>Which widening a <see cref="CpuMatrix"/>'s panels need.</summary>
internal enum HalfEncoding
{
    /// <summary>F32 panels: no widening.</summary>
    None,

    /// <summary>F16 panels with only finite values (<see cref="FiniteF16Format"/>).</summary>
    FiniteF16,

    /// <summary>F16 panels holding an infinity or a NaN (<see cref="F16Format"/>).</summary>
    F16,

    /// <summary>BF16 panels (<see cref="BF16Format"/>).</summary>
    BF16,
}
