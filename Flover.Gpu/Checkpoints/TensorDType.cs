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

    /// <summary>The lower-case name used by the configuration and the CLI: f32, f16 or bf16.</summary>
    public static string ToName(this TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => "f32",
        TensorDType.F16 => "f16",
        TensorDType.BF16 => "bf16",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown tensor dtype."),
    };

    /// <summary>
    /// Parses a weight precision as <c>flover.engine.weight-dtype</c> and <c>--dtype</c> spell it:
    /// <c>auto</c> (null: as the checkpoint stores each tensor), <c>f32</c>, <c>f16</c> or <c>bf16</c>
    /// (case-insensitive).
    /// </summary>
    /// <param name="text">The value.</param>
    /// <param name="source">Where it came from, for the error (e.g. <c>--dtype</c>).</param>
    /// <exception cref="FloverException">The value is none of those.</exception>
    public static TensorDType? ParseWeightDType(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Trim().ToLowerInvariant() switch
        {
            "auto" => null,
            "f32" or "float32" => TensorDType.F32,
            "f16" or "float16" or "fp16" => TensorDType.F16,
            "bf16" or "bfloat16" => TensorDType.BF16,
            _ => throw new FloverException($"{source} takes auto, f32, f16 or bf16; '{text}' is none of them."),
        };
    }

    /// <summary>
    /// Parses a KV-cache precision as <c>flover.engine.kv-dtype</c> and <c>--kv-dtype</c> spell it:
    /// <c>f32</c>, <c>f16</c> or <c>bf16</c> (case-insensitive; the cache has no stored precision to keep).
    /// </summary>
    /// <param name="text">The value.</param>
    /// <param name="source">Where it came from, for the error (e.g. <c>--kv-dtype</c>).</param>
    /// <exception cref="FloverException">The value is none of those.</exception>
    public static TensorDType ParseKvDType(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Trim().ToLowerInvariant() switch
        {
            "f32" or "float32" => TensorDType.F32,
            "f16" or "float16" or "fp16" => TensorDType.F16,
            "bf16" or "bfloat16" => TensorDType.BF16,
            _ => throw new FloverException($"{source} takes f32, f16 or bf16; '{text}' is none of them."),
        };
    }
}
