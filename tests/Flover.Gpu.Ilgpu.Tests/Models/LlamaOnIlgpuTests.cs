using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Memory;
using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Ilgpu.Tests.Models;

/// <summary>LLaMA's kernels are not on ILGPU yet: a model and each kernel refuse in one line instead of failing inside a launch.</summary>
public sealed class LlamaOnIlgpuTests
{
    private const string Refusal = "LLaMA models run on the CPU accelerator in this version";

    [Fact]
    public void A_llama_model_on_the_ilgpu_accelerator_is_refused_in_one_line_before_uploading()
    {
        using IlgpuAccelerator accelerator = IlgpuDevices.OpenCpuOracle();
        using LlamaWeights weights = LlamaPresets.Create(LlamaPresets.Tiny);

        var error = Assert.Throws<FloverException>(() => new LlamaModel(accelerator, weights, new LlamaModelOptions(SlotCount: 1, SlotCapacity: 8)));

        Assert.Contains(Refusal, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Each_llama_kernel_refuses_in_one_line()
    {
        using IlgpuAccelerator accelerator = IlgpuDevices.OpenCpuOracle();
        using MemoryBuffer<float> floats = accelerator.Allocate<float>(4096);
        using MemoryBuffer<int> ints = accelerator.Allocate<int>(4);
        var layout = new KvCacheLayout(1, 1, 1, 4, 8);
        ArrayView<float> f = floats.View;
        ArrayView<int> i = ints.View;

        Action[] kernels =
        [
            () => accelerator.RmsNorm(f, f, 1, 8, f, 1e-5f),
            () => accelerator.ApplyRotary(f, 1, i, 2, 1, 8, f),
            () => accelerator.SwiGlu(f, 1, 8, f),
            () => accelerator.WriteGroupedKv(f, 1, 2, i, i, f, layout, 0),
            () => accelerator.GroupedAttention(f, 1, 2, i, i, f, layout, 0, f),
        ];

        Assert.All(kernels, kernel => Assert.Contains(Refusal, Assert.Throws<FloverException>(kernel).Message));
    }
}
