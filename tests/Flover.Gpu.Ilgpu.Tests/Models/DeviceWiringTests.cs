using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.GpuCheck.Checks;

namespace Flover.Gpu.Ilgpu.Tests.Models;

/// <summary>
/// Device weights that free what they uploaded when an upload fails part-way. (Shards on a device,
/// opened from <c>flover.engine.device</c>, are tested with the shard actors: ShardedModelTests.)
/// </summary>
public sealed class DeviceWiringTests
{
    private static readonly int[] Prompt = [5, 17, 2, 90, 33];

    [Fact]
    public void Weights_that_run_out_of_device_memory_part_way_free_what_was_uploaded()
    {
        using NativeModelWeights weights = CheckWeights.Create(CheckWeights.Config());
        (long weightBytes, _, _) = DeviceMemoryPlan.Estimate(weights, new Gpt2ModelOptions(SlotCount: 1));
        // Room for about half the weights: several uploads succeed, then one fails.
        using IlgpuAccelerator device = IlgpuDevices.OpenCpuOracle(memoryLimit: weightBytes / 2);

        Assert.Throws<FloverException>(() => new Gpt2DeviceWeights(device, weights, null));

        Assert.Equal(0, device.AllocatedBytes);
    }

    [Fact]
    public void Weights_missing_a_tensor_in_the_last_layer_free_what_was_uploaded()
    {
        Gpt2Config config = CheckWeights.Config();
        using NativeModelWeights complete = CheckWeights.Create(config);
        string dropped = Gpt2TensorNames.MlpDownBias(config.LayerCount - 1);
        using IlgpuAccelerator device = IlgpuDevices.OpenCpuOracle();

        FloverException error = Assert.Throws<FloverException>(() => new Gpt2DeviceWeights(device, new WithoutOne(complete, dropped), null));

        Assert.Contains(dropped, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, device.AllocatedBytes);
    }

    /// <summary>A checkpoint lacking one tensor: every upload before it succeeds, then the constructor fails.</summary>
    private sealed class WithoutOne(IModelWeights inner, string dropped) : IModelWeights
    {
        public Gpt2Config Config => inner.Config;

        public string Source => $"{inner.Source} without {dropped}";

        public IReadOnlyCollection<string> TensorNames => [.. inner.TensorNames.Where(n => n != dropped)];

        public TensorView Get(string name) => name == dropped ? throw new KeyNotFoundException(name) : inner.Get(name);

        public void Dispose()
        {
        }
    }
}
