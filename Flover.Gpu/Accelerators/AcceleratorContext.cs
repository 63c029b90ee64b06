using System.Runtime.Intrinsics;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// Lists the accelerators of this machine and creates them, as ILGPU's <c>Context</c> does. Today
/// that is the CPU only; a CUDA device will be listed here once its accelerator exists, and the
/// model code above <see cref="Accelerator"/> will not change.
/// </summary>
public sealed class AcceleratorContext
{
    private readonly EngineOptions _options;

    /// <summary>Creates a context whose accelerators follow <paramref name="options"/>.</summary>
    public AcceleratorContext(EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        int threads = options.ResolveThreadCount();
        Devices =
        [
            new AcceleratorDevice(AcceleratorKind.Cpu, "cpu", $"{DescribeSimd()}, {threads} worker thread(s)"),
        ];
    }

    /// <summary>The accelerators that can be created, the preferred one first.</summary>
    public IReadOnlyList<AcceleratorDevice> Devices { get; }

    /// <summary>Creates the preferred accelerator (the first of <see cref="Devices"/>).</summary>
    public Accelerator CreateDefault() => Create(Devices[0]);

    /// <summary>Creates the accelerator <paramref name="device"/> describes.</summary>
    /// <exception cref="FloverException">The device is not one this context lists.</exception>
    public Accelerator Create(AcceleratorDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.Kind switch
        {
            AcceleratorKind.Cpu => new CpuAccelerator(_options.ResolveThreadCount()),
            _ => throw new FloverException($"Accelerator '{device.Name}' ({device.Kind}) is not available on this machine."),
        };
    }

    /// <summary>The widest SIMD path the CPU kernels will take here.</summary>
    internal static string DescribeSimd()
    {
        if (Vector512.IsHardwareAccelerated)
        {
            return "Vector512 + FMA";
        }

        return Vector256.IsHardwareAccelerated ? "Vector256 + FMA" : "Vector256 (software)";
    }
}
