using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Tests.Models.Llama;

/// <summary>The llama-tiny preset: seeded, and a working GQA model (prefill equals decode bitwise on it too).</summary>
public sealed class LlamaPresetTests
{
    [Fact]
    public void The_same_seed_gives_the_same_logits_and_another_seed_other_ones()
    {
        int[] prompt = [1, 5, 900, 17];

        float[] first = LastLogits(prompt, seed: 7);

        Assert.Equal(first, LastLogits(prompt, seed: 7));
        Assert.NotEqual(first, LastLogits(prompt, seed: 8));
        Assert.All(first, value => Assert.True(float.IsFinite(value)));
    }

    [Fact]
    public void Prefill_equals_decoding_one_by_one_bitwise()
    {
        int[] tokens = [1, 5, 900, 17, 4, 4, 1000, 3];
        using LlamaWeights weights = LlamaPresets.Create(LlamaPresets.Tiny);
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(2)).CreateDefault();
        using var model = new LlamaModel(accelerator, weights, new LlamaModelOptions(SlotCount: 2, SlotCapacity: 16));

        ModelLogits all = model.Prefill([new PrefillPrompt(0, tokens, 0, LogitsSelection.All)]);
        float[][] prefilled = [.. Enumerable.Range(0, all.RowCount).Select(r => all.Row(r).ToArray())];
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.Equal(prefilled[i], model.Decode([new DecodeRow(1, i, tokens[i])]).Row(0).ToArray());
        }
    }

    [Fact]
    public void An_unknown_preset_is_one_line_listing_the_known_ones()
    {
        var error = Assert.Throws<FloverException>(() => LlamaPresets.Create("llama-huge"));

        Assert.Equal("Unknown LLaMA preset 'llama-huge' (known: llama-tiny, tinyllama-1.1b, llama-3-8b).", error.Message);
    }

    [Theory]
    [InlineData(LlamaPresets.TinyLlama1B, 1_100_048_384L, 22, 2048, 32, 4, 64, 5632, 32000, 2048)]
    [InlineData(LlamaPresets.Llama3_8B, 8_030_261_248L, 32, 4096, 32, 8, 128, 14336, 128256, 8192)]
    public void The_published_shapes_have_their_models_parameter_counts(string name, long parameters, int layers, int hidden, int heads, int kvHeads, int headSize, int mlp, int vocabulary, int positions)
    {
        LlamaConfig config = LlamaPresets.ConfigOf(name);

        Assert.Equal((layers, hidden, heads, kvHeads, headSize, mlp, vocabulary, positions), (config.LayerCount, config.HiddenSize, config.HeadCount, config.KvHeadCount, config.HeadSize, config.IntermediateSize, config.VocabularySize, config.MaxPositions));
        Assert.Equal(parameters, LlamaPresets.ParameterCount(name));
        Assert.False(config.TieWordEmbeddings);
    }

    [Fact]
    public void A_preset_that_does_not_fit_says_so_in_one_line_before_generating()
    {
        var error = Assert.Throws<FloverException>(() => LlamaPresets.CheckFits(LlamaPresets.Llama3_8B, TensorDType.F32, availableBytes: 24L << 30));

        Assert.Equal("preset 'llama-3-8b' needs 29.9 GiB of memory for its F32 weights, 24.0 GiB available: use a smaller preset.", error.Message);
        LlamaPresets.CheckFits(LlamaPresets.Llama3_8B, TensorDType.BF16, availableBytes: 24L << 30);
    }

    [Fact]
    public void Generated_in_parallel_chunks_every_tensor_equals_one_serial_draw_and_16_bit_presets_are_its_rounding()
    {
        using LlamaWeights f32 = LlamaPresets.Create(LlamaPresets.Tiny, seed: 3);
        using LlamaWeights bf16 = LlamaPresets.Create(LlamaPresets.Tiny, seed: 3, TensorDType.BF16);

        foreach (string name in f32.TensorNames)
        {
            TensorView tensor = f32.Get(name);
            float[] values = Floats(tensor);
            float[] expected = new float[values.Length];
            if (tensor.Shape.Count == 1)
            {
                Array.Fill(expected, 1f);
            }
            else
            {
                SeededNormal.Fill(expected, 0, StreamKey.For(3, name), 0.02f);
            }

            Assert.Equal(expected, values);
            Assert.Equal(TensorDType.BF16, bf16.Get(name).DType);
            Assert.Equal(values.Select(v => BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(v))), Floats(bf16.Get(name)));
        }
    }

    private static float[] Floats(TensorView tensor)
    {
        float[] values = new float[tensor.ElementCount];
        tensor.CopyToSingle(values);
        return values;
    }

    private static float[] LastLogits(int[] prompt, ulong seed)
    {
        using LlamaWeights weights = LlamaPresets.Create(LlamaPresets.Tiny, seed);
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        using var model = new LlamaModel(accelerator, weights, new LlamaModelOptions(SlotCount: 1, SlotCapacity: 16));
        return model.Prefill([new PrefillPrompt(0, prompt)]).Row(0).ToArray();
    }
}
