namespace Flover.Gpu.Checkpoints;

/// <summary>Element types a checkpoint tensor may be stored in.</summary>
public enum TensorDType
{
    /// <summary>IEEE 754 binary32 (safetensors <c>F32</c>).</summary>
    F32,

    /// <summary>IEEE 754 binary16 (safetensors <c>F16</c>).</summary>
    F16,

    /// <summary>bfloat16: the upper half of a binary32 (safetensors <c>BF16</c>).</summary>
    BF16,
}

/// <summary>Sizes and names of <see cref="TensorDType"/> values.</summary>
public static class TensorDTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int ByteSize(this TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => 4,
        TensorDType.F16 => 2,
        TensorDType.BF16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown tensor dtype."),
    };
}
