using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Models;

public sealed class StepProfileTests
{
    [Fact]
    public void A_profiled_pass_times_every_phase_per_layer_and_computes_bitwise_the_same_logits()
    {
        using var harness = new ModelHarness(TinyGpt2.Weights(TinyGpt2.Config()), slots: 2);
        int[] prompt = [1, 2, 3, 4];
        float[][] plain = harness.PrefillAll(0, prompt);
        var profile = new StepProfile();
        harness.Model.Profile = profile;

        float[][] profiled = harness.PrefillAll(1, prompt);

        harness.Model.Profile = null;
        Assert.Equal(plain, profiled);
        Assert.Equal(
            ["upload", "embed", "layer-norm", "qkv", "kv-write", "attention", "attention-out", "mlp-up", "mlp-down", "final-norm", "lm-head", "download"],
            profile.Phases.Select(p => p.Name));
        int layers = harness.Model.Config.LayerCount;
        Assert.Equal(2 * layers, profile.Phases.Single(p => p.Name == "layer-norm").Calls);
        Assert.Equal(layers, profile.Phases.Single(p => p.Name == "qkv").Calls);
        Assert.Equal(1, profile.Phases.Single(p => p.Name == "lm-head").Calls);
        Assert.Equal(profile.Phases.Sum(p => p.Time.Ticks), profile.Total.Ticks);
    }
}
