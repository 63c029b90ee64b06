using Flover.Gpu.Checkpoints;
using Flover.Gpu.Kernels.Cpu;
using Flover.Gpu.Kernels.Ilgpu;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// A weight matrix on an ILGPU device, input-major <c>[K][N]</c> whatever the checkpoint's layout,
/// so the threads of a warp (consecutive output columns) read consecutive elements. F32 matrices are
/// floats; F16 and BF16 matrices keep their raw bits and the kernels widen them exactly.
/// </summary>
internal sealed class IlgpuMatrix : DeviceMatrix
{
    private readonly MemoryBuffer<float>? _single;
    private readonly MemoryBuffer<ushort>? _bits;

    private IlgpuMatrix(IlgpuAccelerator accelerator, string name, int inputSize, int outputSize, TensorDType elementType, MemoryBuffer<float>? single, MemoryBuffer<ushort>? bits)
        : base(accelerator, name, inputSize, outputSize, elementType)
    {
        _single = single;
        _bits = bits;
        ByteSize = (long)inputSize * outputSize * elementType.ByteSize();
    }

    /// <inheritdoc />
    public override long ByteSize { get; }

    /// <summary>The elements as the kernels read them.</summary>
    public WeightView Weights(IlgpuAccelerator accelerator) => accelerator.WeightsOf(ElementType, _single, _bits);

    /// <summary>
    /// Uploads <paramref name="tensor"/> as a <c>[K][N]</c> matrix of <paramref name="elementType"/>:
    /// bits kept when the types agree, widening exact, narrowing to nearest even (as the CPU engine).
    /// </summary>
    public static unsafe IlgpuMatrix Upload(IlgpuAccelerator accelerator, TensorView tensor, MatrixLayout layout, TensorDType elementType)
    {
        long rows = tensor.Shape[0];
        long columns = tensor.Shape[1];
        (int k, int n) = CheckShape(tensor.Name, rows, columns, layout, elementType);

        // Device memory is checked (bytes needed and free) before the host copy is built.
        long count = (long)k * n;
        if (elementType == TensorDType.F32)
        {
            MemoryBuffer<float> single = accelerator.Allocate<float>(count);
            var values = new float[count];
            tensor.CopyToSingle(values);
            accelerator.CopyFromCpu<float>(InputMajor(values, rows, columns, layout), single.View);
            return new IlgpuMatrix(accelerator, tensor.Name, k, n, elementType, single, null);
        }

        MemoryBuffer<ushort> bits = accelerator.Allocate<ushort>(count);
        var raw = new ushort[count];
        if (tensor.DType == elementType)
        {
            new ReadOnlySpan<ushort>(tensor.Pointer, checked((int)count)).CopyTo(raw);
        }
        else
        {
            var values = new float[count];
            tensor.CopyToSingle(values);
            for (long i = 0; i < count; i++)
            {
                raw[i] = elementType == TensorDType.BF16 ? BFloat16Bits.FromSingle(values[i]) : HalfWidening.NarrowToF16(values[i]);
            }
        }

        accelerator.CopyFromCpu<ushort>(InputMajor(raw, rows, columns, layout), bits.View);
        return new IlgpuMatrix(accelerator, tensor.Name, k, n, elementType, null, bits);
    }

    /// <summary>The held elements, <c>[K][N]</c>, as raw bits (F32 as its float bits): for checks that compare matrices bitwise.</summary>
    public uint[] DownloadBits(IlgpuAccelerator accelerator)
    {
        long count = (long)InputSize * OutputSize;
        var bits = new uint[count];
        if (_single is not null)
        {
            var values = new float[count];
            accelerator.CopyToCpu<float>(_single.View, values);
            for (long i = 0; i < count; i++)
            {
                bits[i] = BitConverter.SingleToUInt32Bits(values[i]);
            }
        }
        else
        {
            var halves = new ushort[count];
            accelerator.CopyToCpu<ushort>(_bits!.View, halves);
            for (long i = 0; i < count; i++)
            {
                bits[i] = halves[i];
            }
        }

        return bits;
    }

    /// <summary>A matrix over device memory already filled (generated on the device), <c>[K][N]</c>; it owns the buffer.</summary>
    public static IlgpuMatrix Wrap(IlgpuAccelerator accelerator, string name, int inputSize, int outputSize, TensorDType elementType, MemoryBuffer<float>? single, MemoryBuffer<ushort>? bits) =>
        new(accelerator, name, inputSize, outputSize, elementType, single, bits);

    /// <summary>The <c>[K][N]</c> sizes of checkpoint tensor <c>[rows, columns]</c> in <paramref name="layout"/>, refused (one line) when too large or not a matmul precision.</summary>
    public static (int K, int N) CheckShape(string name, long rows, long columns, MatrixLayout layout, TensorDType elementType)
    {
        (long k, long n) = layout == MatrixLayout.InputMajor ? (rows, columns) : (columns, rows);
        if (k > int.MaxValue || n > int.MaxValue || k * n > Array.MaxLength)
        {
            throw new FloverException($"Tensor '{name}' [{rows}, {columns}] is too large for a matmul weight.");
        }

        if (elementType is not (TensorDType.F32 or TensorDType.F16 or TensorDType.BF16))
        {
            throw new FloverException($"Tensor '{name}': weight matrices are held as F32, F16 or BF16, not {elementType}.");
        }

        return ((int)k, (int)n);
    }

    protected override void DisposeCore()
    {
        _single?.Dispose();
        _bits?.Dispose();
    }

    /// <summary>The elements as <c>[K][N]</c>: as stored for input-major tensors, transposed for output-major ones.</summary>
    private static T[] InputMajor<T>(T[] values, long rows, long columns, MatrixLayout layout)
    {
        if (layout == MatrixLayout.InputMajor)
        {
            return values;
        }

        // Output-major [N][K] (rows = N): element (n, k) goes to k·N + n.
        var transposed = new T[values.Length];
        for (long n = 0; n < rows; n++)
        {
            for (long k = 0; k < columns; k++)
            {
                transposed[(k * rows) + n] = values[(n * columns) + k];
            }
        }

        return transposed;
    }
}
