using System.Globalization;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// The value of <c>flover.engine.device</c>: <c>cpu</c> (the SIMD engine, the default), <c>cuda</c>
/// (the first CUDA GPU) or <c>cuda:N</c> (GPU N), parsed once so a bad value fails at start-up.
/// </summary>
/// <param name="Kind"><see cref="AcceleratorKind.Cpu"/> or <see cref="AcceleratorKind.Cuda"/>.</param>
/// <param name="Ordinal">The CUDA device's index (0 for plain <c>cuda</c>; unused for the CPU).</param>
public sealed record DeviceSpec(AcceleratorKind Kind, int Ordinal = 0)
{
    /// <summary>The CPU engine.</summary>
    public static DeviceSpec Cpu { get; } = new(AcceleratorKind.Cpu);

    /// <summary>Parses a setting value (case-insensitive, surrounding blanks ignored).</summary>
    /// <exception cref="FloverException">The value is none of <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>.</exception>
    public static DeviceSpec Parse(string? value)
    {
        string text = (value ?? string.Empty).Trim().ToLowerInvariant();
        if (text == "cpu")
        {
            return Cpu;
        }

        if (text == "cuda")
        {
            return new DeviceSpec(AcceleratorKind.Cuda);
        }

        if (text.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int ordinal))
        {
            return new DeviceSpec(AcceleratorKind.Cuda, ordinal);
        }

        throw new FloverException($"flover.engine.device must be cpu, cuda or cuda:N (N a device number), not '{value}'.");
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        AcceleratorKind.Cpu => "cpu",
        AcceleratorKind.IlgpuCpu => "ilgpu-cpu",
        _ => $"cuda:{Ordinal}",
    };
}
