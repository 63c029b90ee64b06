using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models.Gpt2;
using Flover.GpuCheck.Checks;
using ILGPU;

namespace Flover.Gpu.Ilgpu.Tests.Devices;

/// <summary>Each way opening a device can fail is one clear, one-line <see cref="FloverException"/> before serving.</summary>
public sealed class StartupErrorTests
{
    [Theory]
    [InlineData("cpu", AcceleratorKind.Cpu, 0)]
    [InlineData(" CUDA ", AcceleratorKind.Cuda, 0)]
    [InlineData("cuda:3", AcceleratorKind.Cuda, 3)]
    public void Device_settings_parse(string value, AcceleratorKind kind, int ordinal) =>
        Assert.Equal(new DeviceSpec(kind, ordinal), DeviceSpec.Parse(value));

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("ilgpu-cpu")]
    [InlineData("")]
    public void Bad_device_settings_are_rejected(string value) =>
        OneLine(Assert.Throws<FloverException>(() => DeviceSpec.Parse(value)), "cuda:N");

    [Fact]
    public void Cpu_opens_the_simd_engine()
    {
        using Accelerator accelerator = DeviceAccelerators.Open(DeviceSpec.Cpu, new EngineOptions(1));

        Assert.Equal(AcceleratorKind.Cpu, accelerator.Device.Kind);
    }

    [Fact]
    public void Cuda_without_a_driver_or_a_device_says_so()
    {
        if (IlgpuDevices.CudaAvailable(out _))
        {
            // On a GPU host the out-of-range ordinal is the error to see.
            OneLine(Assert.Throws<FloverException>(() => DeviceAccelerators.Open(new DeviceSpec(AcceleratorKind.Cuda, 99), EngineOptions.Default)), "cuda:0");
            return;
        }

        OneLine(Assert.Throws<FloverException>(() => DeviceAccelerators.Open(DeviceSpec.Parse("cuda"), EngineOptions.Default)), "cuda");
    }

    [Fact]
    public void Weights_or_kv_that_do_not_fit_say_bytes_needed_and_free()
    {
        using NativeModelWeights weights = CheckWeights.Create(CheckWeights.Config());
        using IlgpuAccelerator small = IlgpuDevices.OpenCpuOracle(memoryLimit: 1 << 20);
        FloverException kv = Assert.Throws<FloverException>(() => new Gpt2Model(small, weights, new Gpt2ModelOptions(SlotCount: 64, SlotCapacity: 40)));
        using IlgpuAccelerator tiny = IlgpuDevices.OpenCpuOracle(memoryLimit: 16 << 10);
        FloverException weightError = Assert.Throws<FloverException>(() => new Gpt2Model(tiny, weights, new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: 8)));

        OneLine(kv, "1,290,240 bytes needed");
        OneLine(weightError, "bytes needed");
        Assert.Contains("free", kv.Message, StringComparison.Ordinal);
        // A model that fails on its KV pool releases its weights; one that fails half-way through
        // its weights leaves them to the accelerator's disposal (Gpt2DeviceWeights does not unwind).
        Assert.Equal(0, small.AllocatedBytes);
    }

    [Fact]
    public void The_memory_plan_names_weights_kv_and_workspace_before_anything_is_uploaded()
    {
        using NativeModelWeights weights = CheckWeights.Create(CheckWeights.Config());
        using IlgpuAccelerator accelerator = IlgpuDevices.OpenCpuOracle(memoryLimit: 1 << 20);
        var fits = new Gpt2ModelOptions(SlotCount: 2, SlotCapacity: 40, MaxRowsPerStep: 8);
        var tooMany = fits with { SlotCount = 64 };

        DeviceMemoryPlan.Check(accelerator, weights, fits);
        FloverException error = Assert.Throws<FloverException>(() => DeviceMemoryPlan.Check(accelerator, weights, tooMany));

        OneLine(error, "KV pool 1,290,240 bytes (64 slots)");
        Assert.Contains("bytes needed", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, accelerator.AllocatedBytes);
        // The estimate covers what a model really allocates.
        (long weightBytes, long kvBytes, long workspaceBytes) = DeviceMemoryPlan.Estimate(weights, fits);
        using var model = new Gpt2Model(accelerator, weights, fits);
        model.Prefill([new Gpu.Models.PrefillPrompt(0, new[] { 1, 2, 3, 4, 5, 6, 7, 8 })]);
        Assert.InRange(accelerator.AllocatedBytes, kvBytes + weightBytes, weightBytes + kvBytes + workspaceBytes);
    }

    [Fact]
    public void A_kernel_that_does_not_compile_is_one_error_naming_it()
    {
        using IlgpuAccelerator accelerator = IlgpuDevices.OpenCpuOracle();

        FloverException error = Assert.Throws<FloverException>(() => IlgpuKernelSet.Load<Index1D, ILGPU.ArrayView<int>>(accelerator.Native, "ilgpu-cpu", UncompilableKernel));

        OneLine(error, "UncompilableKernel failed to compile");
    }

    private static void OneLine(FloverException error, string mustContain)
    {
        Assert.Contains(mustContain, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    /// <summary>Allocates an object: ILGPU rejects class instances in device code.</summary>
    private static void UncompilableKernel(Index1D index, ILGPU.ArrayView<int> values) => values[index] = new object().GetHashCode();
}
