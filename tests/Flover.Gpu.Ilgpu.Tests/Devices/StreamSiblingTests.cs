using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models.Gpt2;
using Flover.GpuCheck.Checks;

namespace Flover.Gpu.Ilgpu.Tests.Devices;

/// <summary>Stream siblings: accelerators sharing one device context and memory, each on a stream of its own.</summary>
public sealed class StreamSiblingTests : IDisposable
{
    private readonly NativeModelWeights _weights = CheckWeights.Create(CheckWeights.Config());

    public void Dispose() => _weights.Dispose();

    [Fact]
    public void Instances_on_sibling_streams_driven_concurrently_give_each_sequence_its_solo_logits_bitwise() =>
        Assert.Null(StreamChecks.ConcurrentInstancesEqualAlone(Oracle.Open, _weights, 3));

    [Fact]
    public void Siblings_share_memory_with_their_home_and_each_other_but_not_with_another_device()
    {
        using var home = (IlgpuAccelerator)Oracle.Open();
        using var other = (IlgpuAccelerator)Oracle.Open();
        using IlgpuAccelerator first = home.CreateStreamSibling();
        using IlgpuAccelerator second = first.CreateStreamSibling();

        Assert.True(first.SharesMemoryWith(home));
        Assert.True(second.SharesMemoryWith(first));
        Assert.True(home.SharesMemoryWith(second));
        Assert.False(other.SharesMemoryWith(home));
        Assert.False(first.SharesMemoryWith(other));
    }

    [Fact]
    public void A_model_on_a_sibling_reads_the_homes_upload_and_gives_the_homes_greedy_tokens()
    {
        int[] prompt = [5, 17, 2, 90, 33];
        using var home = (IlgpuAccelerator)Oracle.Open();
        using var shared = new Gpt2SharedWeights(home, _weights);
        var options = new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: 16, MaxRowsPerStep: 8);
        int[] expected;
        using (var model = new Gpt2Model(home, shared, options))
        {
            expected = ModelChecks.Greedy(model, prompt, 6);
        }

        long homeUploads = home.Counters.HostToDeviceBytes;
        using IlgpuAccelerator sibling = home.CreateStreamSibling();
        using (var model = new Gpt2Model(sibling, shared, options))
        {
            Assert.Equal(expected, ModelChecks.Greedy(model, prompt, 6));
        }

        // The sibling uploaded only its steps' row inputs, never a weight: it read the home's upload.
        Assert.InRange(sibling.Counters.HostToDeviceBytes, 1, 1024);
        Assert.Equal(homeUploads, home.Counters.HostToDeviceBytes);
    }

    [Fact]
    public void A_fault_on_a_sibling_poisons_its_home_and_every_other_sibling_because_they_share_one_context()
    {
        using var home = (IlgpuAccelerator)Oracle.Open();
        using IlgpuAccelerator faulty = home.CreateStreamSibling();
        using IlgpuAccelerator bystander = home.CreateStreamSibling();
        using MemoryBuffer<float> values = faulty.Allocate<float>(8);
        faulty.InjectFault(1);

        DeviceFaultException fault = Assert.Throws<DeviceFaultException>(() => faulty.Activate(values.View, KernelActivation.GeluTanh));

        Assert.Contains("CUDA_ERROR_ILLEGAL_ADDRESS", fault.Message, StringComparison.Ordinal);
        Assert.Same(faulty.Fault, home.Fault);
        Assert.Same(faulty.Fault, bystander.Fault);
        Assert.Throws<DeviceFaultException>(() => bystander.Allocate<float>(4));
        Assert.Throws<DeviceFaultException>(home.Synchronize);
    }

    [Fact]
    public void The_device_outlives_its_home_accelerator_until_the_last_sibling_is_disposed()
    {
        int[] prompt = [3, 1, 4, 1, 5];
        var options = new Gpt2ModelOptions(SlotCount: 1, SlotCapacity: 16, MaxRowsPerStep: 8);
        int[] expected;
        using (var alone = (IlgpuAccelerator)Oracle.Open())
        using (var model = new Gpt2Model(alone, _weights, options))
        {
            expected = ModelChecks.Greedy(model, prompt, 4);
        }

        var home = (IlgpuAccelerator)Oracle.Open();
        IlgpuAccelerator sibling = home.CreateStreamSibling();
        home.Dispose();
        using (sibling)
        using (var model = new Gpt2Model(sibling, _weights, options))
        {
            Assert.Equal(expected, ModelChecks.Greedy(model, prompt, 4));
        }

        Assert.Throws<ObjectDisposedException>(home.CreateStreamSibling);
    }
}
