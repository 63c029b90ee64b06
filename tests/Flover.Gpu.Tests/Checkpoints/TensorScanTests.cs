using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Checkpoints;

public sealed class TensorScanTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("flover-scan-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void NaNs_and_infinities_are_counted_in_vectors_and_in_the_tail(TensorDType dtype)
    {
        var values = new float[37];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (i - 18) * 1000.5f;
        }

        values[0] = float.NaN;
        values[15] = float.PositiveInfinity;
        values[17] = float.Epsilon;
        values[36] = float.NegativeInfinity;
        using var weights = new NativeModelWeights(TestCheckpoint.Config, "test");
        weights.Add("t", dtype, values, values.Length);

        Assert.Equal(3, TensorScan.CountNonFinite(weights.Get("t")));
    }

    [Fact]
    public void The_largest_finite_values_are_not_counted()
    {
        using var weights = new NativeModelWeights(TestCheckpoint.Config, "test");
        weights.Add("f32", TensorDType.F32, Enumerable.Repeat(float.MaxValue, 20).ToArray(), 20);
        weights.Add("f16", TensorDType.F16, Enumerable.Repeat(65504f, 20).ToArray(), 20);

        Assert.Equal((0, 0), (TensorScan.CountNonFinite(weights.Get("f32")), TensorScan.CountNonFinite(weights.Get("f16"))));
    }

    [Fact]
    public void A_checkpoint_holding_a_NaN_fails_naming_the_tensor_and_the_count()
    {
        float[] values = TestCheckpoint.ValuesOf("h.1.ln_2.bias", [8]);
        values[3] = float.NaN;
        values[5] = float.NaN;
        SafetensorsWriter writer = TestCheckpoint.Weights(dtype: TensorDType.F16).Remove("transformer.h.1.ln_2.bias").Add("transformer.h.1.ln_2.bias", TensorDType.F16, [8], values);
        TestCheckpoint.Write(_root, writer, TestCheckpoint.ConfigJson());
        using IModelWeights weights = Gpt2Checkpoint.Load(_root);

        var error = Assert.Throws<FloverException>(() => TensorScan.RequireFinite(weights));

        Assert.Equal($"{_root}: tensor 'h.1.ln_2.bias' holds 2 NaN or infinite values: the weights are corrupt or the model diverged.", error.Message);
    }

    [Fact]
    public void Preset_weights_are_finite()
    {
        using NativeModelWeights weights = Gpt2Presets.Create("tiny");

        TensorScan.RequireFinite(weights);
    }
}
