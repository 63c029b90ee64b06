using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.GpuCheck.Checks;

namespace Flover.Gpu.Ilgpu.Tests.Devices;

/// <summary>Not a stub: a step launches a device kernel in every operation, allocates nothing after warm-up and returns only logits, or the ids of rows chosen (greedy or sampled) on the device.</summary>
public sealed class DeviceOnlyStepTests
{
    [Fact]
    public void A_fused_step_runs_every_operation_on_the_device_and_only_logits_cross_to_the_host()
    {
        using NativeModelWeights weights = CheckWeights.Create(CheckWeights.Config());
        using IlgpuAccelerator accelerator = IlgpuDevices.OpenCpuOracle();

        Assert.Null(DeviceOnlyCheck.Run(accelerator, weights));
        Assert.True(accelerator.Counters.Kernels.Count >= 8, string.Join(", ", accelerator.Counters.Kernels.Keys));
        // The oracle's small split-K chunk sends the tiny model's matmuls down the split path a GPU
        // takes at GPT-2's shapes (the single pass is covered by the kernel tests).
        Assert.Contains("MatMulPartial", accelerator.Counters.Kernels.Keys);
        Assert.Contains("MatMulReduce", accelerator.Counters.Kernels.Keys);
    }
}
