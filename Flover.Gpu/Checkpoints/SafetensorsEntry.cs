namespace Flover.Gpu.Checkpoints;

/// <summary>
/// One tensor as a safetensors header describes it: its name as stored, its dtype as spelled in
/// the file, its shape, and its byte range relative to the start of the data section.
/// </summary>
/// <param name="Name">The tensor name exactly as stored (for example <c>transformer.h.0.ln_1.weight</c>).</param>
/// <param name="DTypeName">The dtype as spelled in the header (<c>F32</c>, <c>BF16</c>, <c>I64</c>, ...).</param>
/// <param name="Shape">The dimensions, outermost first.</param>
/// <param name="Begin">First byte of the tensor in the data section (inclusive).</param>
/// <param name="End">End of the tensor in the data section (exclusive).</param>
public sealed record SafetensorsEntry(string Name, string DTypeName, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>The dtype as a <see cref="TensorDType"/>, or null when Flover cannot compute with it (integers, F64, FP8, ...).</summary>
    public TensorDType? DType => SafetensorsDTypes.TryGetSupported(DTypeName);

    /// <summary>Number of bytes the tensor occupies.</summary>
    public long ByteLength => End - Begin;

    /// <summary>The shape written as <c>[a, b]</c>, for messages.</summary>
    public string ShapeText => SafetensorsDTypes.FormatShape(Shape);
}
