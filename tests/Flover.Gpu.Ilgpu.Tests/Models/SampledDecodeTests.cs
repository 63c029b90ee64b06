using Flover.Gpu.Checkpoints;
using Flover.GpuCheck.Checks;

namespace Flover.Gpu.Ilgpu.Tests.Models;

/// <summary>Sampled requests decoded together, their tokens chosen on the device, get every token they get alone sampled on the host.</summary>
public sealed class SampledDecodeTests
{
    [Fact]
    public void Sampled_rows_chosen_on_the_device_give_every_token_each_request_gets_alone()
    {
        using NativeModelWeights weights = CheckWeights.Create(CheckWeights.Config());

        Assert.Null(SampledDecodeCheck.Run(Oracle.Open, weights, tokens: 5));
    }
}
