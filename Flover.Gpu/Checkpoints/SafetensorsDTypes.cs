namespace Flover.Gpu.Checkpoints;

/// <summary>The dtype names the safetensors format defines, their sizes, and which ones Flover computes with.</summary>
internal static class SafetensorsDTypes
{
    // Every whole-byte dtype of the safetensors specification: the header of a valid file may use any of
    // them (for example an integer attention-mask buffer), so offsets are checked for all of them even
    // though only F32, F16 and BF16 tensors can be used as weights.
    private static readonly Dictionary<string, int> s_sizes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1,
        ["U8"] = 1,
        ["I8"] = 1,
        ["F8_E5M2"] = 1,
        ["F8_E4M3"] = 1,
        ["F8_E8M0"] = 1,
        ["I16"] = 2,
        ["U16"] = 2,
        ["F16"] = 2,
        ["BF16"] = 2,
        ["I32"] = 4,
        ["U32"] = 4,
        ["F32"] = 4,
        ["F64"] = 8,
        ["I64"] = 8,
        ["U64"] = 8,
        ["C64"] = 8,
    };

    /// <summary>Bytes per element of <paramref name="name"/>, or null for a dtype this reader does not know.</summary>
    public static int? TryGetSize(string name) => s_sizes.TryGetValue(name, out int size) ? size : null;

    /// <summary>The <see cref="TensorDType"/> spelled <paramref name="name"/>, or null when Flover cannot compute with it.</summary>
    public static TensorDType? TryGetSupported(string name) => name switch
    {
        "F32" => TensorDType.F32,
        "F16" => TensorDType.F16,
        "BF16" => TensorDType.BF16,
        _ => null,
    };

    /// <summary>The safetensors spelling of <paramref name="dtype"/>.</summary>
    public static string NameOf(TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => "F32",
        TensorDType.F16 => "F16",
        TensorDType.BF16 => "BF16",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown tensor dtype."),
    };

    /// <summary>Writes a shape as <c>[a, b]</c>.</summary>
    public static string FormatShape(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";
}
