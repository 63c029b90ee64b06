using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Models;

public sealed class Gpt2PresetsTests
{
    [Theory]
    [InlineData("tiny", 2, 12, 96, 256)]
    [InlineData("gpt2", 12, 12, 768, 1024)]
    [InlineData("gpt2-medium", 24, 16, 1024, 1024)]
    public void Each_preset_has_its_documented_shape_and_GPT2s_vocabulary(string name, int layers, int heads, int embedding, int positions)
    {
        Assert.Equal(
            new Gpt2Config(layers, heads, embedding, positions, 4 * embedding, 50257, 1e-5f, Gpt2Activation.GeluTanh, 50256, 50256),
            Gpt2Presets.ConfigOf(name));
    }

    [Theory]
    [InlineData("gpt2", 124_439_808L)]
    [InlineData("gpt2-medium", 354_823_168L)]
    public void The_large_presets_have_the_published_parameter_counts(string name, long parameters)
    {
        Assert.Equal(parameters, Gpt2TensorShapes.ParameterCount(Gpt2Presets.ConfigOf(name)));
    }

    [Fact]
    public void An_unknown_preset_lists_the_valid_names()
    {
        var error = Assert.Throws<FloverException>(() => Gpt2Presets.Create("gpt3"));

        Assert.Equal("Unknown preset 'gpt3'; valid presets: tiny, gpt2, gpt2-medium, gptj-6b.", error.Message);
    }

    [Fact]
    public void Gptj_6b_is_gpt2_s_architecture_at_gpt_j_s_size_with_its_padded_vocabulary()
    {
        Gpt2Config config = Gpt2Presets.ConfigOf(Gpt2Presets.GptJ6B);

        Assert.Equal(new Gpt2Config(28, 16, 4096, 2048, 16384, 50400, 1e-5f, Gpt2Activation.GeluTanh, 50256, 50256), config);
        Assert.Equal(256, config.HeadSize);
        // 28 x (12 x 4096^2 + 53,248 biases and norms) + 50400 x 4096 (embedding = tied head) + 2048 x 4096 positions + 8,192.
        Assert.Equal(5_853_470_720L, Gpt2TensorShapes.ParameterCount(config));
        Assert.Equal(5_853_470_720L * 4, Gpt2Presets.GeneratedBytes(config, TensorDType.F32));
        Assert.Equal(5_853_470_720L * 2, Gpt2Presets.GeneratedBytes(config, TensorDType.BF16));
    }

    [Fact]
    public void A_preset_larger_than_the_memory_available_is_one_line_before_anything_is_generated()
    {
        var error = Assert.Throws<FloverException>(() => Gpt2Presets.CheckFits(Gpt2Presets.GptJ6B, TensorDType.F32, availableBytes: 16L << 30));

        Assert.Equal("preset 'gptj-6b' needs 21.8 GiB of memory for its F32 weights, 16.0 GiB available: use a smaller preset.", error.Message);
        Gpt2Presets.CheckFits(Gpt2Presets.Gpt2, TensorDType.F32, availableBytes: 16L << 30);
    }

    [Fact]
    public void The_tiny_preset_holds_every_tensor_with_its_shape_and_a_tied_lm_head()
    {
        using NativeModelWeights weights = Gpt2Presets.Create("tiny");

        foreach ((string name, long[] shape) in Gpt2TensorShapes.Required(weights.Config))
        {
            Assert.Equal(shape, weights.Get(name).Shape);
        }

        Assert.Same(weights.Get(Gpt2TensorNames.TokenEmbedding), weights.Get(Gpt2TensorNames.LmHead));
        Assert.Equal(Gpt2TensorShapes.Required(weights.Config).Count + 1, weights.TensorNames.Count);
    }

    [Fact]
    public void Biases_are_zero_and_layer_norm_gains_are_one()
    {
        using NativeModelWeights weights = Gpt2Presets.Create("tiny");

        foreach (string name in weights.TensorNames.Where(n => n.EndsWith(".bias", StringComparison.Ordinal)))
        {
            Assert.All(Read(weights.Get(name)), v => Assert.Equal(0f, v));
        }

        foreach (string name in new[] { Gpt2TensorNames.Norm1Weight(1), Gpt2TensorNames.Norm2Weight(0), Gpt2TensorNames.FinalNormWeight })
        {
            Assert.All(Read(weights.Get(name)), v => Assert.Equal(1f, v));
        }
    }

    [Theory]
    [InlineData("wte.weight", 0.02)]
    [InlineData("h.0.attn.c_attn.weight", 0.02)]
    [InlineData("h.1.mlp.c_proj.weight", 0.01)] // 0.02 / sqrt(2 * n_layer) with n_layer 2
    public void Weights_are_normal_with_GPT2s_initialisation_scale(string name, double std)
    {
        using NativeModelWeights weights = Gpt2Presets.Create("tiny");
        float[] values = Read(weights.Get(name));

        double mean = values.Average(v => (double)v);
        double measured = Math.Sqrt(values.Average(v => (double)v * v) - (mean * mean));
        double withinOne = values.Count(v => Math.Abs(v) < std) / (double)values.Length;
        double withinTwo = values.Count(v => Math.Abs(v) < 2 * std) / (double)values.Length;

        // Tolerances are about six standard errors for these sample sizes (at least 27 648 values).
        Assert.InRange(mean, -std * 0.04, std * 0.04);
        Assert.InRange(measured / std, 0.97, 1.03);
        Assert.InRange(withinOne, 0.6827 - 0.017, 0.6827 + 0.017);
        Assert.InRange(withinTwo, 0.9545 - 0.008, 0.9545 + 0.008);
    }

    [Fact]
    public void The_same_seed_gives_identical_weights_and_another_seed_different_ones()
    {
        using NativeModelWeights first = Gpt2Presets.Create("tiny", seed: 7);
        using NativeModelWeights again = Gpt2Presets.Create("tiny", seed: 7);
        using NativeModelWeights other = Gpt2Presets.Create("tiny", seed: 8);

        Assert.True(first.Get("wte.weight").Bytes.SequenceEqual(again.Get("wte.weight").Bytes));
        Assert.False(first.Get("wte.weight").Bytes.SequenceEqual(other.Get("wte.weight").Bytes));
    }

    [Fact]
    public void Weights_do_not_depend_on_the_number_of_threads()
    {
        Gpt2Config config = Gpt2Presets.ConfigOf("tiny");
        using NativeModelWeights serial = PresetWeightGenerator.Generate(config, "serial", 99, TensorDType.F32, maxDegreeOfParallelism: 1);
        using NativeModelWeights parallel = PresetWeightGenerator.Generate(config, "parallel", 99, TensorDType.F32, maxDegreeOfParallelism: 8);

        foreach (string name in serial.TensorNames)
        {
            Assert.True(serial.Get(name).Bytes.SequenceEqual(parallel.Get(name).Bytes), name);
        }
    }

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Narrow_presets_hold_the_F32_values_rounded(TensorDType dtype)
    {
        using NativeModelWeights wide = Gpt2Presets.Create("tiny");
        using NativeModelWeights narrow = Gpt2Presets.Create("tiny", dtype: dtype);

        foreach (string name in new[] { "h.0.mlp.c_fc.weight", "h.0.ln_1.weight", "wpe.weight" })
        {
            Assert.Equal(dtype, narrow.Get(name).DType);
            float[] expected = Read(wide.Get(name))
                .Select(v => dtype == TensorDType.F16 ? (float)(Half)v : BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(v)))
                .ToArray();
            Assert.Equal(expected, Read(narrow.Get(name)));
        }
    }

    private static float[] Read(TensorView view)
    {
        var values = new float[view.ElementCount];
        view.CopyToSingle(values);
        return values;
    }
}
