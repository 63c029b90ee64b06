using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Checkpoints;

public sealed class ModelWeightsSummaryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("flover-summary-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_tied_lm_head_is_counted_once()
    {
        using NativeModelWeights weights = Gpt2Presets.Create("tiny");

        ModelWeightsSummary summary = ModelWeightsSummary.Of(weights);

        long parameters = Gpt2TensorShapes.ParameterCount(weights.Config);
        Assert.Equal((28, parameters, parameters * 4, true), (summary.TensorCount, summary.ParameterCount, summary.ByteCount, summary.LmHeadTied));
        Assert.Equal(new Dictionary<TensorDType, int> { [TensorDType.F32] = 28 }, summary.TensorsPerDType);
    }

    [Fact]
    public void An_untied_lm_head_and_mixed_dtypes_are_counted_as_stored()
    {
        Gpt2Config config = TestCheckpoint.Config;
        long[] head = Gpt2TensorShapes.LmHead(config);
        SafetensorsWriter writer = TestCheckpoint.Weights(dtype: TensorDType.BF16)
            .Add("lm_head.weight", TensorDType.F16, head, new float[head[0] * head[1]])
            .Remove("transformer.ln_f.bias")
            .Add("transformer.ln_f.bias", TensorDType.F32, [8], new float[8]);
        TestCheckpoint.Write(_root, writer, TestCheckpoint.ConfigJson());
        using IModelWeights weights = Gpt2Checkpoint.Load(_root);

        ModelWeightsSummary summary = ModelWeightsSummary.Of(weights);

        long parameters = Gpt2TensorShapes.ParameterCount(config) + (head[0] * head[1]);
        Assert.Equal((29, parameters, false), (summary.TensorCount, summary.ParameterCount, summary.LmHeadTied));
        Assert.Equal((parameters * 2) + 16, summary.ByteCount);
        Assert.Equal(new Dictionary<TensorDType, int> { [TensorDType.F32] = 1, [TensorDType.F16] = 1, [TensorDType.BF16] = 27 }, summary.TensorsPerDType);
    }
}
