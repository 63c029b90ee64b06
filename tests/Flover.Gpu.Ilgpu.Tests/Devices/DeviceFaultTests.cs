using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.GpuCheck.Checks;
using ILGPU.Runtime.Cuda;

namespace Flover.Gpu.Ilgpu.Tests.Devices;

/// <summary>
/// A device fault (injected as the CUDA illegal address a real kernel would cause) poisons the
/// accelerator like a sticky CUDA error poisons its context: the call that meets it and every later
/// one throw <see cref="DeviceFaultException"/>, disposal still frees everything, and a model on a
/// new accelerator computes exactly what the healthy one did.
/// </summary>
public sealed class DeviceFaultTests
{
    private static readonly int[] Prompt = [5, 17, 2, 90, 33];

    [Fact]
    public void An_injected_fault_poisons_the_accelerator_and_a_rebuilt_one_computes_the_same_logits()
    {
        using NativeModelWeights weights = CheckWeights.Create(CheckWeights.Config());
        float[] healthy = FirstLogits(weights);

        IlgpuAccelerator accelerator = IlgpuDevices.OpenCpuOracle();
        var model = new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: 1));
        accelerator.InjectFault(launches: 3);

        DeviceFaultException fault = Assert.Throws<DeviceFaultException>(() => model.Prefill([new PrefillPrompt(0, Prompt)]));
        Assert.IsType<CudaException>(fault.InnerException);
        Assert.Contains("ilgpu-cpu", fault.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', fault.Message);
        Assert.Same(fault, accelerator.Fault);
        // Sticky: nothing runs on it any more, a plain synchronise included.
        Assert.Equal(fault.Message, Assert.Throws<DeviceFaultException>(() => model.Decode([new DecodeRow(0, 0, 5)])).Message);
        Assert.Throws<DeviceFaultException>(accelerator.Synchronize);

        model.Dispose();
        accelerator.Dispose();
        Assert.Equal(0, accelerator.AllocatedBytes);
        Assert.Equal(healthy, FirstLogits(weights));
    }

    private static float[] FirstLogits(IModelWeights weights)
    {
        using IlgpuAccelerator accelerator = IlgpuDevices.OpenCpuOracle();
        using var model = new Gpt2Model(accelerator, weights, new Gpt2ModelOptions(SlotCount: 1));
        return model.Prefill([new PrefillPrompt(0, Prompt)]).Row(0).ToArray();
    }
}
