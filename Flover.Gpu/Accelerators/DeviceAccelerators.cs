using Flover.Gpu.Accelerators.Ilgpu;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// Opens the accelerator <c>flover.engine.device</c> names: what the CLI and settings call once
/// (<c>DeviceAccelerators.Open(DeviceSpec.Parse(setting), engineOptions)</c>) before building a model.
/// </summary>
public static class DeviceAccelerators
{
    /// <summary>
    /// Opens <paramref name="device"/>: the SIMD CPU engine (<paramref name="options"/>' threads), or a
    /// CUDA GPU through ILGPU with every kernel compiled (or, built in code by tests, ILGPU's CPU oracle).
    /// </summary>
    /// <exception cref="FloverException">No CUDA driver, no such device, or a kernel that does not compile for it: one line saying which.</exception>
    public static Accelerator Open(DeviceSpec device, EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        return device.Kind switch
        {
            AcceleratorKind.Cpu => new AcceleratorContext(options).CreateDefault(),
            AcceleratorKind.Cuda => IlgpuDevices.OpenCuda(device.Ordinal),
            // Never parsed from a setting (DeviceSpec.Parse refuses it); tests build it in code to run
            // the whole host path on ILGPU's CPU accelerator.
            AcceleratorKind.IlgpuCpu => IlgpuDevices.OpenCpuOracle(),
            _ => throw new FloverException($"Device '{device}' cannot serve."),
        };
    }
}
