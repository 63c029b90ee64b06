using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Kernels.Cpu;

namespace Flover.Gpu.Ilgpu.Tests.Devices;

/// <summary>
/// <c>flover.engine.batch-invariant = off</c> without a GPU: refused in one line on every device
/// that has only the batch-invariant kernels, and the fast GEMM's own pieces (the activation
/// rounding kernel, the device addresses handed to cuBLAS) checked on ILGPU's CPU accelerator.
/// </summary>
public sealed class FastGemmModeTests
{
    [Fact]
    public void Off_on_the_cpu_device_is_refused_in_one_line_naming_the_setting_and_the_reason()
    {
        var error = Assert.Throws<FloverException>(() => DeviceAccelerators.Open(DeviceSpec.Cpu, new EngineOptions(1) { BatchInvariant = false }));

        Assert.Equal("flover.engine.batch-invariant = off needs a CUDA device (cuBLAS tensor cores); device cpu has only the batch-invariant kernels.", error.Message);
    }

    [Fact]
    public void Off_on_ilgpus_cpu_accelerator_is_refused_too()
    {
        var opened = Assert.Throws<FloverException>(() => DeviceAccelerators.Open(new DeviceSpec(AcceleratorKind.IlgpuCpu), new EngineOptions(1) { BatchInvariant = false }));
        using IlgpuAccelerator oracle = IlgpuDevices.OpenCpuOracle();
        var enabled = Assert.Throws<FloverException>(oracle.EnableFastGemm);

        Assert.Equal("flover.engine.batch-invariant = off needs a CUDA device (cuBLAS tensor cores); device ilgpu-cpu has only the batch-invariant kernels.", opened.Message);
        Assert.Equal(opened.Message, enabled.Message);
        Assert.True(oracle.BatchInvariant);
    }

    [Fact]
    public void On_is_the_default_and_every_accelerator_without_cublas_is_batch_invariant()
    {
        using Accelerator cpu = DeviceAccelerators.Open(DeviceSpec.Cpu, new EngineOptions(1));
        using Accelerator oracle = DeviceAccelerators.Open(new DeviceSpec(AcceleratorKind.IlgpuCpu), EngineOptions.Default);

        Assert.True(EngineOptions.Default.BatchInvariant);
        Assert.True(cpu.BatchInvariant);
        Assert.True(oracle.BatchInvariant);
    }

    [Theory]
    [InlineData(TensorDType.BF16)]
    [InlineData(TensorDType.F16)]
    public void The_activation_rounding_kernel_equals_the_hosts_rounding(TensorDType type)
    {
        var random = new Random(2304);
        float[] values = [.. Enumerable.Range(0, 1000).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-20, 20))))];
        values[0] = 0f;
        values[1] = -0f;
        values[2] = 1e6f; // beyond F16's range: infinity, as the host's conversion
        using IlgpuAccelerator oracle = IlgpuDevices.OpenCpuOracle();
        using MemoryBuffer<float> input = oracle.Allocate<float>(values.Length);
        using MemoryBuffer<ushort> output = oracle.Allocate<ushort>(values.Length);
        oracle.CopyFromCpu<float>(values, input.View);
        var bits = new ushort[values.Length];

        oracle.NarrowForGemm(input.View, output.View, type);
        oracle.CopyToCpu(output.View, bits);

        Assert.Equal([.. values.Select(v => type == TensorDType.BF16 ? BFloat16Bits.FromSingle(v) : HalfWidening.NarrowToF16(v))], bits);
    }

    [Fact]
    public unsafe void The_address_given_to_cublas_is_the_views_first_element()
    {
        // On ILGPU's CPU accelerator a buffer's native pointer is host memory, so the address can be read back.
        using IlgpuAccelerator oracle = IlgpuDevices.OpenCpuOracle();
        using MemoryBuffer<float> buffer = oracle.Allocate<float>(16);
        oracle.CopyFromCpu<float>([.. Enumerable.Range(0, 16).Select(i => i + 0.5f)], buffer.View);

        nint whole = IlgpuAccelerator.DeviceAddress(buffer.View);
        nint slice = IlgpuAccelerator.DeviceAddress(buffer.View.SubView(5, 7));

        Assert.Equal(5 * sizeof(float), slice - whole);
        Assert.Equal(5.5f, *(float*)slice);
    }
}
