using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.GpuCheck.Checks;

namespace Flover.Gpu.Ilgpu.Tests.Models;

/// <summary>
/// Preset weights generated on the device (<c>PresetKernels.Fill</c>) against the
/// host generator's upload on ILGPU's CPU accelerator: every element's bits, a whole preset's
/// logits, and no weight byte crossing from the host.
/// </summary>
public sealed class PresetGenerationTests
{
    public static TheoryData<TensorDType, TensorDType> DTypes()
    {
        var data = new TheoryData<TensorDType, TensorDType>();
        foreach (TensorDType generated in (TensorDType[])[TensorDType.F32, TensorDType.F16, TensorDType.BF16])
        {
            foreach (TensorDType held in (TensorDType[])[TensorDType.F32, TensorDType.F16, TensorDType.BF16])
            {
                data.Add(generated, held);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DTypes))]
    public void Device_generated_matrices_are_the_host_generators_bits(TensorDType generated, TensorDType held)
    {
        using var accelerator = (IlgpuAccelerator)Oracle.Open();
        // 37 x 53 ends 9 elements into a block; 16 x 8 is block-aligned; keys differ by name.
        foreach ((string name, long[] shape, PresetFill fill, float std) in (ReadOnlySpan<(string, long[], PresetFill, float)>)
            [("a.weight", [37, 53], PresetFill.Normal, 0.02f), ("b.weight", [16, 8], PresetFill.Normal, 1.7f), ("c.weight", [5, 3], PresetFill.Ones, 0f), ("d.weight", [7, 9], PresetFill.Zeros, 0f)])
        {
            var recipe = new GeneratedTensor(name, shape, fill, std, StreamKey.For(11, name), generated);
            foreach (MatrixLayout layout in (MatrixLayout[])[MatrixLayout.InputMajor, MatrixLayout.OutputMajor])
            {
                Assert.True(PresetGenerationCheck.Mismatches(accelerator, recipe, layout, held) == 0, $"{name} {layout}: device differs from host");
            }
        }
    }

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Device_generated_vectors_are_the_host_generators_bits(TensorDType generated)
    {
        using var accelerator = (IlgpuAccelerator)Oracle.Open();
        foreach ((string name, long[] shape, PresetFill fill) in (ReadOnlySpan<(string, long[], PresetFill)>)
            [("wpe", [13, 21], PresetFill.Normal), ("ln_1.weight", [35], PresetFill.Ones), ("c_attn.bias", [49], PresetFill.Zeros)])
        {
            var recipe = new GeneratedTensor(name, shape, fill, 0.02f, StreamKey.For(3, name), generated);
            Assert.Equal(0, PresetGenerationCheck.Mismatches(accelerator, recipe, null, TensorDType.F32));
        }
    }

    [Fact]
    public void The_tiny_preset_generated_on_the_device_gives_the_uploads_logits_bitwise_without_a_weight_byte_from_the_host()
    {
        int[] prompt = [50256, 464, 2068, 7586, 21831];
        // BF16 matrices from F32 draws, as an engine serving a preset in BF16 holds them.
        var options = new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: 8, MaxRowsPerStep: 5, WeightDType: TensorDType.BF16);
        float[] uploaded;
        using (NativeModelWeights host = Gpt2Presets.Create(Gpt2Presets.Tiny))
        using (Accelerator accelerator = Oracle.Open())
        using (var model = new Gpt2Model(accelerator, host, options))
        {
            uploaded = Last(model, prompt);
        }

        using var preset = new PresetWeights(Gpt2Presets.Tiny);
        using var device = (IlgpuAccelerator)Oracle.Open();
        device.Counters.Reset();
        using var generated = new Gpt2Model(device, preset, options);

        // Loading allocated and launched, but nothing crossed from the host: no weights, no host copy.
        Assert.Equal(0, device.Counters.HostToDeviceCopies);
        Assert.Equal(0, device.Counters.HostToDeviceBytes);
        Assert.Equal(4 + (12 * preset.Config.LayerCount), device.Counters.Kernels.GetValueOrDefault("Fill"));
        Assert.False(preset.HostCopyMade);
        Assert.Equal(uploaded.Select(BitConverter.SingleToUInt32Bits), Last(generated, prompt).Select(BitConverter.SingleToUInt32Bits));
    }

    [Fact]
    public void The_cpu_accelerators_default_generates_on_the_host_one_tensor_at_a_time_with_the_same_bits()
    {
        var options = new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: 4, MaxRowsPerStep: 3);
        int[] prompt = [1, 2, 3];
        var cpu = new EngineOptions(Threads: 2);
        using var preset = new PresetWeights(Gpt2Presets.Tiny);
        using NativeModelWeights host = Gpt2Presets.Create(Gpt2Presets.Tiny);
        using Gpt2Model generated = Gpt2Model.Load(cpu, preset, options);
        using Gpt2Model reference = Gpt2Model.Load(cpu, host, options);

        Assert.Equal(Last(reference, prompt).Select(BitConverter.SingleToUInt32Bits), Last(generated, prompt).Select(BitConverter.SingleToUInt32Bits));
        Assert.False(preset.HostCopyMade);
    }

    private static float[] Last(Gpt2Model model, int[] prompt)
    {
        ModelLogits logits = model.Prefill([new PrefillPrompt(0, prompt)]);
        return logits.Row(logits.RowCount - 1).ToArray();
    }
}
