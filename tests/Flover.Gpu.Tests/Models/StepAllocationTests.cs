using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Models;

/// <summary>A warm decode step allocates nothing on the managed heap: activations, scratch and logits come from buffers sized at start-up.</summary>
public sealed class StepAllocationTests
{
    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void A_warm_decode_step_allocates_nothing(TensorDType dtype)
    {
        using NativeModelWeights weights = TinyGpt2.Weights(TinyGpt2.Config(), TensorDType.F32, seed: 4);
        using var harness = new ModelHarness(weights, threads: 1, slots: 20, weightDType: dtype);
        DecodeRow[] one = [new DecodeRow(0, 0, 1)];
        DecodeRow[] many = [.. Enumerable.Range(0, 20).Select(slot => new DecodeRow(slot, 0, slot + 1))];
        harness.Model.Decode(one);
        harness.Model.Decode(many);
        one[0] = one[0] with { Position = 1 };
        for (int i = 0; i < many.Length; i++)
        {
            many[i] = many[i] with { Position = 1 };
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        harness.Model.Decode(one);
        harness.Model.Decode(many);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }
}
