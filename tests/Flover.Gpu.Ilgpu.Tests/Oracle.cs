using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;

namespace Flover.Gpu.Ilgpu.Tests;

/// <summary>Opens ILGPU's CPU accelerator, the oracle the device kernels run on in CI.</summary>
internal static class Oracle
{
    /// <summary>A fresh oracle with simulated warps of four threads (so nothing may assume 32).</summary>
    public static Accelerator Open() => IlgpuDevices.OpenCpuOracle();
}
