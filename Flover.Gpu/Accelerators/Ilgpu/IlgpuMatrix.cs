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
        (long k, long n) = layout == MatrixLayout.InputMajor ? (rows, columns) : (columns, rows);
        if (k > int.MaxValue || n > int.MaxValue || k * n > Array.MaxLength)
        {
            throw new FloverException($"Tensor '{tensor.Name}' [{rows}, {columns}] is too large for a matmul weight.");
        }

        if (elementType is not (TensorDType.F32 or TensorDType.F16 or TensorDType.BF16))
        {
            throw new FloverException($"Tensor '{tensor.Name}': weight matrices are held as F32, F16 or BF16, not {elementType}.");
        }

        // Device memory is checked (bytes needed and free) before the host copy is built.
        long count = k * n;
        if (elementType == TensorDType.F32)
        {
            MemoryBuffer<float> single = accelerator.Allocate<float>(count);
            var values = new float[count];
            tensor.CopyToSingle(values);
            accelerator.CopyFromCpu<float>(InputMajor(values, rows, columns, layout), single.View);
            return new IlgpuMatrix(accelerator, tensor.Name, (int)k, (int)n, elementType, single, null);
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
        return new IlgpuMatrix(accelerator, tensor.Name, (int)k, (int)n, elementType, null, bits);
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
