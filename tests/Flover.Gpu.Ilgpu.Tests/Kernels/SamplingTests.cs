using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.GpuCheck.Checks;

namespace Flover.Gpu.Ilgpu.Tests.Kernels;

/// <summary>
/// Sampling where the logits are gives the host sampler's ids on the same logits, in every mode
/// (<see cref="SamplingChecks.Cases"/>): on ILGPU's CPU accelerator (the device kernel, its sums in
/// the group's order) and on the CPU accelerator (the host sampler itself).
/// </summary>
public sealed class SamplingTests
{
    [Theory]
    [InlineData(300, 257, 3)]
    [InlineData(64, 64, 2)]
    [InlineData(1000, 999, 2)]
    public void Device_sampling_gives_the_host_samplers_ids_in_every_mode(int rowWidth, int candidates, int seeds)
    {
        using IlgpuAccelerator accelerator = IlgpuDevices.OpenCpuOracle(warpSize: 3);

        // The device sums the same float weights in double in another order (a group tree instead of
        // a running sum): the sums differ from the host's by a few units of 2⁻⁵³ relative, so an id
        // could differ only where a draw lands that close to a boundary between two tokens' cumulative
        // weights; no case here does, and the launch is deterministic, so the ids must be equal.
        Assert.Empty(SamplingChecks.Compare(accelerator, rowWidth, candidates, seeds));
    }

    [Fact]
    public void Sampling_again_with_fewer_rows_and_edits_reuses_the_grown_buffers()
    {
        using IlgpuAccelerator accelerator = IlgpuDevices.OpenCpuOracle();

        // The parameters and edits go into the leading part of buffers grown by the first, larger call.
        Assert.Empty(SamplingChecks.Compare(accelerator, 80, 70, 2));
        Assert.Empty(SamplingChecks.Compare(accelerator, 80, 70, 1));
    }

    [Fact]
    public void The_cpu_accelerator_samples_with_the_host_sampler_itself()
    {
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();

        Assert.Empty(SamplingChecks.Compare(accelerator, 300, 257, 4));
    }
}
