using System.Text.Json;
using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Checkpoints.Llama;

/// <summary>
/// Reads a Hugging Face LLaMA <c>config.json</c> into a <see cref="LlamaConfig"/>, in both forms:
/// transformers 4 (top-level <c>rope_theta</c>, <c>rope_scaling</c> with <c>type</c> or <c>rope_type</c>),
/// which most checkpoints on the Hub use, and transformers 5 (<c>rope_parameters</c> with rope_theta
/// inside). Settings Flover does not compute are refused in one line naming the key.
/// </summary>
public static class LlamaConfigReader
{
    /// <summary>The only architecture this reader accepts.</summary>
    public const string Architecture = "LlamaForCausalLM";

    /// <summary>Reads and validates the <c>config.json</c> at <paramref name="path"/>.</summary>
    /// <exception cref="FloverException">Missing file, invalid JSON, another architecture, or a missing, invalid or unsupported key (named in the message).</exception>
    public static LlamaConfig Read(string path)
    {
        using JsonDocument document = ModelConfigFile.Parse(path);
        return Parse(document.RootElement, path);
    }

    /// <summary>Builds the configuration from a parsed <c>config.json</c> object; <paramref name="path"/> names it in errors.</summary>
    internal static LlamaConfig Parse(JsonElement root, string path)
    {
        var keys = new ConfigKeys(root, path);
        string architecture = ModelConfigFile.ArchitectureOf(root, path);
        if (architecture != Architecture)
        {
            throw new FloverException($"{path}: architecture '{architecture}' is not supported by the LLaMA loader; it reads {Architecture} (model_type 'llama'), and Flover also reads GPT2LMHeadModel.");
        }

        string activation = keys.OptionalString("hidden_act") ?? "silu";
        if (activation != "silu")
        {
            throw keys.Error("hidden_act", $"is '{activation}'; LLaMA's MLP is SwiGLU and Flover supports only 'silu'.");
        }

        int layers = keys.RequiredPositiveInt("num_hidden_layers");
        int hidden = keys.RequiredPositiveInt("hidden_size");
        int heads = keys.RequiredPositiveInt("num_attention_heads");
        int kvHeads = keys.OptionalPositiveInt("num_key_value_heads") ?? heads;
        if (heads % kvHeads != 0)
        {
            throw keys.Error("num_key_value_heads", $"is {kvHeads}, which does not divide num_attention_heads {heads} (each key/value head serves a whole group of query heads).");
        }

        int? headDim = keys.OptionalPositiveInt("head_dim");
        if (headDim is null && hidden % heads != 0)
        {
            throw keys.Error("num_attention_heads", $"is {heads}, which does not divide hidden_size {hidden}, and there is no head_dim.");
        }

        int headSize = headDim ?? (hidden / heads);
        if (headSize % 2 != 0)
        {
            throw keys.Error("head_dim", $"is {headSize}; rotary embeddings need an even head size.");
        }

        int inner = keys.RequiredPositiveInt("intermediate_size");
        int vocabulary = keys.RequiredPositiveInt("vocab_size");
        int positions = keys.RequiredPositiveInt("max_position_embeddings");
        float epsilon = keys.OptionalPositiveFloat("rms_norm_eps") ?? 1e-6f;
        LlamaRope rope = ReadRope(keys);
        return new LlamaConfig(
            layers, hidden, heads, kvHeads, headSize, inner, vocabulary, positions, epsilon, rope,
            TieWordEmbeddings: keys.OptionalBool("tie_word_embeddings", fallback: false),
            AttentionBias: keys.OptionalBool("attention_bias", fallback: false),
            MlpBias: keys.OptionalBool("mlp_bias", fallback: false),
            BosTokenId: keys.OptionalTokenId("bos_token_id", vocabulary),
            EosTokenId: keys.OptionalTokenId("eos_token_id", vocabulary));
    }

    private static LlamaRope ReadRope(ConfigKeys keys)
    {
        // transformers 5: rope_parameters holds everything; transformers 4: rope_theta on top, scaling apart.
        ConfigKeys? parameters = keys.Nested("rope_parameters");
        ConfigKeys? scaling = parameters ?? keys.Nested("rope_scaling");
        float theta = parameters?.OptionalPositiveFloat("rope_theta") ?? keys.OptionalPositiveFloat("rope_theta") ?? 10000f;
        if (scaling is not ConfigKeys s)
        {
            return new LlamaRope(LlamaRopeType.Default, theta);
        }

        string typeKey = s.TryGet("rope_type", out _) || !s.TryGet("type", out _) ? "rope_type" : "type";
        string type = s.OptionalString(typeKey) ?? "default";
        return type switch
        {
            "default" => new LlamaRope(LlamaRopeType.Default, theta),
            "linear" => new LlamaRope(LlamaRopeType.Linear, theta, s.RequiredPositiveFloat("factor")),
            "llama3" => Llama3(s, theta),
            _ => throw s.Error(typeKey, $"is '{type}'; Flover supports the rope types default, linear and llama3."),
        };
    }

    private static LlamaRope Llama3(ConfigKeys s, float theta)
    {
        float low = s.RequiredPositiveFloat("low_freq_factor");
        float high = s.RequiredPositiveFloat("high_freq_factor");
        if (high <= low)
        {
            throw s.Error("high_freq_factor", $"is {high}, not above low_freq_factor {low}.");
        }

        return new LlamaRope(LlamaRopeType.Llama3, theta, s.RequiredPositiveFloat("factor"), low, high, s.RequiredPositiveInt("original_max_position_embeddings"));
    }
}
