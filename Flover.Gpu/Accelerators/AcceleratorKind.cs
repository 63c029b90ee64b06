namespace Flover.Gpu.Accelerators;

/// <summary>The kinds of accelerator Flover can drive.</summary>
public enum AcceleratorKind
{
    /// <summary>The host CPU: SIMD kernels (Vector512 or Vector256 with FMA) on a fixed worker pool.</summary>
    Cpu,

    /// <summary>An NVIDIA GPU, driven through ILGPU (<c>flover.engine.device = cuda</c> or <c>cuda:N</c>).</summary>
    Cuda,

    /// <summary>ILGPU's CPU accelerator running the GPU kernels as managed code: a test oracle, never a serving device.</summary>
    IlgpuCpu,
}

/// <summary>One accelerator a <see cref="AcceleratorContext"/> can create.</summary>
/// <param name="Kind">The accelerator's kind.</param>
/// <param name="Name">A human-readable name (for <c>flover info</c> and logs).</param>
/// <param name="Details">What the accelerator will use, e.g. the SIMD width and worker count.</param>
public sealed record AcceleratorDevice(AcceleratorKind Kind, string Name, string Details);
