namespace Flover.Gpu.Checkpoints;

/// <summary>
/// A read-only view of one tensor's bytes, usually straight into a memory-mapped checkpoint
/// file. Valid only while the <see cref="IModelWeights"/> that returned it is not disposed.
/// </summary>
public sealed unsafe class TensorView
{
    private readonly byte* _data;

    /// <summary>Creates a view over <paramref name="byteLength"/> bytes at <paramref name="data"/>.</summary>
    /// <param name="name">The canonical tensor name (see <see cref="Gpt2TensorNames"/>).</param>
    /// <param name="dtype">The element type of the stored bytes.</param>
    /// <param name="shape">The dimensions, outermost first.</param>
    /// <param name="data">Pointer to the first byte; must outlive the view.</param>
    /// <param name="byteLength">Number of bytes; must equal the element count times the dtype size.</param>
    public TensorView(string name, TensorDType dtype, IReadOnlyList<long> shape, byte* data, long byteLength)
    {
        long elements = 1;
        foreach (long dim in shape)
        {
            elements *= dim;
        }

        if (elements * dtype.ByteSize() != byteLength)
        {
            throw new ArgumentException(
                $"Tensor '{name}' has shape [{string.Join(", ", shape)}] of {dtype} ({elements * dtype.ByteSize()} bytes) but {byteLength} bytes.",
                nameof(byteLength));
        }

        Name = name;
        DType = dtype;
        Shape = shape;
        ElementCount = elements;
        _data = data;
        ByteLength = byteLength;
    }

    /// <summary>The canonical tensor name.</summary>
    public string Name { get; }

    /// <summary>The element type of the stored bytes.</summary>
    public TensorDType DType { get; }

    /// <summary>The dimensions, outermost first (row-major storage).</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Number of elements (the product of <see cref="Shape"/>).</summary>
    public long ElementCount { get; }

    /// <summary>Number of bytes.</summary>
    public long ByteLength { get; }

    /// <summary>Pointer to the first byte (for kernels that pack weights at load time).</summary>
    public byte* Pointer => _data;

    /// <summary>The stored bytes; tensors over 2 GiB must be read through <see cref="Pointer"/>.</summary>
    public ReadOnlySpan<byte> Bytes => new(_data, checked((int)ByteLength));

    /// <summary>Converts the tensor to F32 into <paramref name="destination"/>, exactly (F16 and BF16 widen losslessly).</summary>
    public void CopyToSingle(Span<float> destination)
    {
        if (destination.Length != ElementCount)
        {
            throw new ArgumentException($"Destination holds {destination.Length} elements; tensor '{Name}' has {ElementCount}.", nameof(destination));
        }

        switch (DType)
        {
            case TensorDType.F32:
                new ReadOnlySpan<float>(_data, destination.Length).CopyTo(destination);
                break;
            case TensorDType.F16:
                var halves = new ReadOnlySpan<Half>(_data, destination.Length);
                for (int i = 0; i < halves.Length; i++)
                {
                    destination[i] = (float)halves[i];
                }

                break;
            case TensorDType.BF16:
                var raw = new ReadOnlySpan<ushort>(_data, destination.Length);
                for (int i = 0; i < raw.Length; i++)
                {
                    destination[i] = BitConverter.Int32BitsToSingle(raw[i] << 16);
                }

                break;
            default:
                throw new InvalidOperationException($"Unsupported dtype {DType}.");
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {DType} [{string.Join(", ", Shape)}]";
}
