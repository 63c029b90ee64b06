using System.Text.Json;
using System.Text.Json.Nodes;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Checkpoints;

/// <summary>Small GPT-2 checkpoints written by tests: a config.json plus safetensors weights with known values.</summary>
internal static class TestCheckpoint
{
    /// <summary>2 blocks, 2 heads, width 8, 16 positions, MLP 32, vocabulary 40.</summary>
    public static Gpt2Config Config { get; } = new(2, 2, 8, 16, 32, 40, 1e-5f, Gpt2Activation.GeluTanh, 39, 39);

    /// <summary>The config.json object Hugging Face would write for <paramref name="config"/>.</summary>
    public static JsonObject ConfigJson(Gpt2Config? config = null)
    {
        config ??= Config;
        return new JsonObject
        {
            ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["model_type"] = "gpt2",
            ["activation_function"] = "gelu_new",
            ["n_layer"] = config.LayerCount,
            ["n_head"] = config.HeadCount,
            ["n_embd"] = config.EmbeddingSize,
            ["n_positions"] = config.MaxPositions,
            ["n_ctx"] = config.MaxPositions,
            ["n_inner"] = config.InnerSize,
            ["vocab_size"] = config.VocabularySize,
            ["layer_norm_epsilon"] = 1e-5,
            ["bos_token_id"] = config.BosTokenId,
            ["eos_token_id"] = config.EosTokenId,
            ["scale_attn_weights"] = true,
            ["torch_dtype"] = "float32",
        };
    }

    /// <summary>
    /// A writer holding every tensor of <paramref name="config"/> with <see cref="ValuesOf"/> values,
    /// named with <paramref name="prefix"/>, plus the causal-mask buffers older transformers saved.
    /// </summary>
    public static SafetensorsWriter Weights(Gpt2Config? config = null, TensorDType dtype = TensorDType.F32, string prefix = "transformer.", bool withBuffers = true)
    {
        config ??= Config;
        var writer = new SafetensorsWriter();
        foreach ((string name, long[] shape) in Gpt2TensorShapes.Required(config))
        {
            writer.Add(prefix + name, dtype, shape, ValuesOf(name, shape));
            if (withBuffers && name.EndsWith("ln_1.bias", StringComparison.Ordinal))
            {
                int layer = Gpt2CheckpointNames.LayerOf(name)!.Value;
                long positions = config.MaxPositions;
                writer.AddRaw($"{prefix}h.{layer}.attn.bias", "U8", [1, 1, positions, positions], new byte[positions * positions]);
                writer.Add($"{prefix}h.{layer}.attn.masked_bias", TensorDType.F32, [], [-1e4f]);
            }
        }

        return writer;
    }

    /// <summary>Deterministic values k/64 with |k| ≤ 50: exact in F32, F16 and BF16, different per tensor.</summary>
    public static float[] ValuesOf(string canonicalName, long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        int seed = canonicalName.Sum(c => c) % 101;
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (((seed + (i * 37)) % 101) - 50) / 64f;
        }

        return values;
    }

    /// <summary>Writes config.json (when given) and model.safetensors into <paramref name="folder"/>.</summary>
    public static string Write(string folder, SafetensorsWriter weights, JsonObject? config)
    {
        Directory.CreateDirectory(folder);
        if (config is not null)
        {
            File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }

        weights.Write(Path.Combine(folder, Gpt2Checkpoint.SingleFileName));
        return folder;
    }

    /// <summary>Reads a tensor as floats.</summary>
    public static float[] Read(TensorView view)
    {
        var values = new float[view.ElementCount];
        view.CopyToSingle(values);
        return values;
    }
}
