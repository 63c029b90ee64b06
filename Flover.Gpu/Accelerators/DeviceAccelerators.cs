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
    /// CUDA GPU through ILGPU with every kernel compiled (or, built in code by tests, ILGPU's CPU oracle);
    /// with <see cref="EngineOptions.BatchInvariant"/> off, the GPU's matmuls run on cuBLAS.
    /// </summary>
    /// <exception cref="FloverException">
    /// No CUDA driver, no such device, a kernel that does not compile for it, the fast GEMM mode asked
    /// of a device without it, or cuBLAS that does not load: one line saying which.
    /// </exception>
    public static Accelerator Open(DeviceSpec device, EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.BatchInvariant && device.Kind != AcceleratorKind.Cuda)
        {
            // Refused, never ignored: a worker that silently kept the invariant kernels would
            // advertise a fingerprint its matmuls do not match.
            throw new FloverException(FastGemmRefusal(device.ToString()));
        }

        return device.Kind switch
        {
            AcceleratorKind.Cpu => new AcceleratorContext(options).CreateDefault(),
            AcceleratorKind.Cuda => IlgpuDevices.OpenCuda(device.Ordinal, IlgpuAccelerator.DefaultMatMulChunk, options.BatchInvariant),
            // Never parsed from a setting (DeviceSpec.Parse refuses it); tests build it in code to run
            // the whole host path on ILGPU's CPU accelerator.
            AcceleratorKind.IlgpuCpu => IlgpuDevices.OpenCpuOracle(),
            _ => throw new FloverException($"Device '{device}' cannot serve."),
        };
    }

    /// <summary>The one-line refusal of <c>flover.engine.batch-invariant = off</c> on a device that has only the batch-invariant kernels.</summary>
    internal static string FastGemmRefusal(string device) =>
        $"flover.engine.batch-invariant = off needs a CUDA device (cuBLAS tensor cores); device {device} has only the batch-invariant kernels.";
}
