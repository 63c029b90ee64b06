using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Checkpoints;

public sealed class Gpt2CheckpointTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("flover-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string WeightsPath => Path.Combine(_root, Gpt2Checkpoint.SingleFileName);

    [Theory]
    [InlineData(TensorDType.F32, "transformer.")]
    [InlineData(TensorDType.F16, "transformer.")]
    [InlineData(TensorDType.BF16, "")]
    public void Every_tensor_loads_under_its_canonical_name_with_its_values(TensorDType dtype, string prefix)
    {
        TestCheckpoint.Write(_root, TestCheckpoint.Weights(dtype: dtype, prefix: prefix), TestCheckpoint.ConfigJson());

        using IModelWeights weights = Gpt2Checkpoint.Load(_root);

        Assert.Equal(TestCheckpoint.Config, weights.Config);
        Assert.Equal(_root, weights.Source);
        foreach ((string name, long[] shape) in Gpt2TensorShapes.Required(TestCheckpoint.Config))
        {
            TensorView view = weights.Get(name);
            Assert.Equal((name, dtype), (view.Name, view.DType));
            Assert.Equal(shape, view.Shape);
            Assert.Equal(TestCheckpoint.ValuesOf(name, shape), TestCheckpoint.Read(view));
        }
    }

    [Fact]
    public void The_attention_mask_buffers_are_ignored_and_lm_head_is_tied_to_wte()
    {
        TestCheckpoint.Write(_root, TestCheckpoint.Weights(withBuffers: true), TestCheckpoint.ConfigJson());

        using IModelWeights weights = Gpt2Checkpoint.Load(_root);

        int required = Gpt2TensorShapes.Required(TestCheckpoint.Config).Count;
        Assert.Equal(required + 1, weights.TensorNames.Count);
        Assert.DoesNotContain(weights.TensorNames, n => n.EndsWith("attn.bias", StringComparison.Ordinal) && !n.Contains("c_attn", StringComparison.Ordinal));
        Assert.Same(weights.Get(Gpt2TensorNames.TokenEmbedding), weights.Get(Gpt2TensorNames.LmHead));
    }

    [Fact]
    public void A_stored_lm_head_is_used_instead_of_the_embedding()
    {
        long[] shape = Gpt2TensorShapes.LmHead(TestCheckpoint.Config);
        float[] values = TestCheckpoint.ValuesOf("something else", shape);
        TestCheckpoint.Write(_root, TestCheckpoint.Weights().Add("lm_head.weight", TensorDType.F32, shape, values), TestCheckpoint.ConfigJson());

        using IModelWeights weights = Gpt2Checkpoint.Load(_root);

        Assert.NotSame(weights.Get(Gpt2TensorNames.TokenEmbedding), weights.Get(Gpt2TensorNames.LmHead));
        Assert.Equal(values, TestCheckpoint.Read(weights.Get(Gpt2TensorNames.LmHead)));
    }

    [Fact]
    public void A_stored_lm_head_without_wte_serves_as_both()
    {
        long[] shape = Gpt2TensorShapes.LmHead(TestCheckpoint.Config);
        TestCheckpoint.Write(_root, TestCheckpoint.Weights().Rename("transformer.wte.weight", "lm_head.weight"), TestCheckpoint.ConfigJson());

        using IModelWeights weights = Gpt2Checkpoint.Load(_root);

        Assert.Same(weights.Get(Gpt2TensorNames.TokenEmbedding), weights.Get(Gpt2TensorNames.LmHead));
        Assert.Equal(TestCheckpoint.ValuesOf(Gpt2TensorNames.TokenEmbedding, shape), TestCheckpoint.Read(weights.Get(Gpt2TensorNames.TokenEmbedding)));
    }

    [Fact]
    public void Tensors_point_into_the_mapped_file_rather_than_a_copy()
    {
        TestCheckpoint.Write(_root, TestCheckpoint.Weights(withBuffers: false), TestCheckpoint.ConfigJson());
        using IModelWeights weights = Gpt2Checkpoint.Load(_root);
        using SafetensorsFile file = SafetensorsFile.Open(WeightsPath);
        long wteOffset = file.DataOffset + file.GetEntry("transformer.wte.weight").Begin;
        long wpeOffset = file.DataOffset + file.GetEntry("transformer.wpe.weight").Begin;

        unsafe
        {
            long distance = weights.Get(Gpt2TensorNames.PositionEmbedding).Pointer - weights.Get(Gpt2TensorNames.TokenEmbedding).Pointer;
            Assert.Equal(wpeOffset - wteOffset, distance);
        }
    }

    [Fact]
    public void Dispose_unmaps_the_weights()
    {
        TestCheckpoint.Write(_root, TestCheckpoint.Weights(), TestCheckpoint.ConfigJson());
        IModelWeights weights = Gpt2Checkpoint.Load(_root);

        weights.Dispose();

        Assert.Throws<ObjectDisposedException>(() => weights.Get(Gpt2TensorNames.TokenEmbedding));
        new FileStream(WeightsPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose();
    }

    [Fact]
    public void An_unknown_tensor_name_is_reported()
    {
        var writer = TestCheckpoint.Weights().Add("score.weight", TensorDType.F32, [2, 8], new float[16]);

        Assert.Equal($"{WeightsPath}: tensor 'score.weight' is not part of a GPT-2 language model.", LoadFails(writer));
    }

    [Fact]
    public void A_tensor_stored_with_and_without_the_prefix_is_a_duplicate()
    {
        var writer = TestCheckpoint.Weights().Add("wpe.weight", TensorDType.F32, [16, 8], new float[128]);

        Assert.Equal(
            $"{WeightsPath}: tensor 'wpe.weight' duplicates tensor 'transformer.wpe.weight' in {WeightsPath} (both are 'wpe.weight').",
            LoadFails(writer));
    }

    [Fact]
    public void A_weight_in_an_unsupported_dtype_names_file_tensor_and_dtype()
    {
        var writer = TestCheckpoint.Weights(withBuffers: false).Remove("transformer.ln_f.bias").AddRaw("transformer.ln_f.bias", "F64", [8], new byte[64]);

        Assert.Equal(
            $"{WeightsPath}: tensor 'transformer.ln_f.bias' has unsupported dtype 'F64' (Flover reads F32, F16 and BF16).",
            LoadFails(writer));
    }

    [Fact]
    public void A_truncated_weights_file_is_reported_through_the_loader()
    {
        var writer = TestCheckpoint.Weights(withBuffers: false);
        writer.TruncateBy = 1;

        string message = LoadFails(writer);

        Assert.StartsWith($"{WeightsPath}: tensor 'transformer.ln_f.bias' has data_offsets [", message, StringComparison.Ordinal);
        Assert.EndsWith("the file is truncated or its offsets are out of range.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_header_is_reported_through_the_loader()
    {
        var writer = TestCheckpoint.Weights();
        writer.HeaderOverride = "{not json}";

        Assert.StartsWith($"{WeightsPath}: the safetensors header is not valid JSON (", LoadFails(writer), StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_length_beyond_the_file_is_reported_through_the_loader()
    {
        var writer = TestCheckpoint.Weights();
        writer.HeaderLengthOverride = ulong.MaxValue;

        Assert.StartsWith($"{WeightsPath}: the header length {ulong.MaxValue} runs beyond the end of the file", LoadFails(writer), StringComparison.Ordinal);
    }

    private string LoadFails(SafetensorsWriter writer, System.Text.Json.Nodes.JsonObject? config = null)
    {
        TestCheckpoint.Write(_root, writer, config ?? TestCheckpoint.ConfigJson());
        return Assert.Throws<FloverException>(() => Gpt2Checkpoint.Load(_root)).Message;
    }
}
