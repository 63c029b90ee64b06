using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Checkpoints;

/// <summary>
/// Slices of checkpoint tensors for tensor parallelism, in the tensor's own dtype. Row slices of a
/// row-major tensor are contiguous, so they are views into the same memory; column slices are
/// copied into memory the caller's <see cref="SliceMemory"/> owns until the upload is done.
/// </summary>
internal static unsafe class TensorSlicing
{
    /// <summary>Rows <paramref name="start"/>..<paramref name="start"/>+<paramref name="count"/> of the outermost dimension (no copy).</summary>
    public static TensorView Rows(TensorView tensor, long start, long count)
    {
        long rowElements = tensor.ElementCount / tensor.Shape[0];
        long rowBytes = rowElements * tensor.DType.ByteSize();
        long[] shape = [.. tensor.Shape];
        shape[0] = count;
        return new TensorView(tensor.Name, tensor.DType, shape, tensor.Pointer + (start * rowBytes), count * rowBytes);
    }

    /// <summary>
    /// The column ranges <paramref name="ranges"/> of a 2-D tensor (of a 1-D tensor: element ranges),
    /// concatenated in the order given, copied into memory from <paramref name="memory"/>.
    /// </summary>
    public static TensorView Columns(TensorView tensor, ReadOnlySpan<(long Start, long Count)> ranges, SliceMemory memory)
    {
        long rows = tensor.Shape.Count == 1 ? 1 : tensor.Shape[0];
        long columns = tensor.Shape[^1];
        long width = 0;
        foreach ((long _, long count) in ranges)
        {
            width += count;
        }

        int element = tensor.DType.ByteSize();
        byte* target = memory.Allocate(rows * width * element);
        byte* destination = target;
        for (long row = 0; row < rows; row++)
        {
            foreach ((long start, long count) in ranges)
            {
                long bytes = count * element;
                Buffer.MemoryCopy(tensor.Pointer + (((row * columns) + start) * element), destination, bytes, bytes);
                destination += bytes;
            }
        }

        IReadOnlyList<long> shape = tensor.Shape.Count == 1 ? [width] : [rows, width];
        return new TensorView(tensor.Name, tensor.DType, shape, target, rows * width * element);
    }

    /// <summary>
    /// <paramref name="parts"/> stacked along the outermost dimension (a fused projection from separate
    /// ones), copied into memory from <paramref name="memory"/>: in their dtype when they share one,
    /// else each widened exactly to F32.
    /// </summary>
    public static TensorView ConcatRows(string name, ReadOnlySpan<TensorView> parts, SliceMemory memory)
    {
        TensorDType dtype = parts[0].DType;
        long rows = 0;
        long total = 0;
        foreach (TensorView part in parts)
        {
            dtype = part.DType == dtype ? dtype : TensorDType.F32;
            rows += part.Shape[0];
            total += part.ElementCount;
        }

        long bytes = total * dtype.ByteSize();
        byte* target = memory.Allocate(bytes);
        byte* destination = target;
        foreach (TensorView part in parts)
        {
            long partBytes = part.ElementCount * dtype.ByteSize();
            if (part.DType == dtype)
            {
                Buffer.MemoryCopy(part.Pointer, destination, partBytes, partBytes);
            }
            else
            {
                part.CopyToSingle(new Span<float>(destination, checked((int)part.ElementCount)));
            }

            destination += partBytes;
        }

        IReadOnlyList<long> shape = parts[0].Shape.Count == 1 ? [rows] : [rows, .. parts[0].Shape.Skip(1)];
        return new TensorView(name, dtype, shape, target, bytes);
    }
}

/// <summary>Native memory holding copied slices until they are uploaded; freed on dispose.</summary>
internal sealed unsafe class SliceMemory : IDisposable
{
    private readonly List<(nint Block, long Bytes)> _blocks = [];

    public byte* Allocate(long bytes)
    {
        var block = (byte*)HostMemory.Allocate(bytes);
        _blocks.Add(((nint)block, bytes));
        return block;
    }

    public void Dispose()
    {
        foreach ((nint block, long bytes) in _blocks)
        {
            HostMemory.Free((void*)block, bytes);
        }

        _blocks.Clear();
    }
}
