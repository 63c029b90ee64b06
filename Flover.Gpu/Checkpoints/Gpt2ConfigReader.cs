using System.Text.Json;
using Flover.Gpu.Models;

namespace Flover.Gpu.Checkpoints;

/// <summary>
/// Reads a Hugging Face GPT-2 <c>config.json</c> into a <see cref="Gpt2Config"/>. The shape keys
/// (<c>n_layer</c>, <c>n_head</c>, <c>n_embd</c>, <c>n_positions</c>, <c>vocab_size</c>) are required;
/// the rest take Hugging Face's GPT-2 defaults when absent. Options that would change the
/// computation in ways Flover does not implement are refused rather than ignored.
/// </summary>
public static class Gpt2ConfigReader
{
    /// <summary>The file name inside a model folder.</summary>
    public const string FileName = "config.json";

    /// <summary>GPT-2's <c>&lt;|endoftext|&gt;</c>, the default beginning- and end-of-sequence id.</summary>
    public const int DefaultSpecialTokenId = 50256;

    /// <summary>Reads and validates the <c>config.json</c> at <paramref name="path"/>.</summary>
    /// <exception cref="FloverException">Missing file, invalid JSON, or a missing, invalid or unsupported key (named in the message).</exception>
    public static Gpt2Config Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FloverException($"{path}: not found; a Hugging Face GPT-2 folder holds config.json beside model.safetensors.", exception);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new FloverException($"{path}: cannot read ({exception.Message})", exception);
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes);
            return Parse(document.RootElement, path);
        }
        catch (JsonException exception)
        {
            throw new FloverException($"{path}: not valid JSON ({exception.Message})", exception);
        }
    }

    /// <summary>Builds the configuration from a parsed <c>config.json</c> object; <paramref name="path"/> names it in errors.</summary>
    internal static Gpt2Config Parse(JsonElement root, string path)
    {
        var keys = new ConfigKeys(root, path);
        string? modelType = keys.OptionalString("model_type");
        if (modelType is not null && modelType != "gpt2")
        {
            throw new FloverException($"{path}: model_type '{modelType}' is not supported; Flover loads GPT-2 models (model_type 'gpt2').");
        }

        keys.RefuseFlag("scale_attn_weights", unsupportedValue: false, "attention scores unscaled by 1/sqrt(head size)");
        keys.RefuseFlag("scale_attn_by_inverse_layer_idx", unsupportedValue: true, "attention scaled by the inverse layer index");
        keys.RefuseFlag("add_cross_attention", unsupportedValue: true, "cross-attention (encoder-decoder) layers");

        int layers = keys.RequiredPositiveInt("n_layer");
        int heads = keys.RequiredPositiveInt("n_head");
        int embedding = keys.RequiredPositiveInt("n_embd");
        int positions = keys.RequiredPositiveInt("n_positions");
        int vocabulary = keys.RequiredPositiveInt("vocab_size");
        int inner = keys.OptionalPositiveInt("n_inner") ?? checked(4 * embedding);
        if (embedding % heads != 0)
        {
            throw new FloverException($"{path}: n_embd {embedding} is not divisible by n_head {heads}.");
        }

        float epsilon = keys.OptionalPositiveFloat("layer_norm_epsilon") ?? 1e-5f;
        string activationName = keys.OptionalString("activation_function") ?? "gelu_new";
        Gpt2Activation activation = activationName switch
        {
            "gelu_new" or "gelu_pytorch_tanh" => Gpt2Activation.GeluTanh,
            "gelu" => Gpt2Activation.GeluExact,
            "relu" => Gpt2Activation.Relu,
            _ => throw new FloverException(
                $"{path}: activation_function '{activationName}' is not supported (gelu_new, gelu_pytorch_tanh, gelu, relu)."),
        };

        int bos = keys.TokenId("bos_token_id", vocabulary);
        int eos = keys.TokenId("eos_token_id", vocabulary);
        return new Gpt2Config(layers, heads, embedding, positions, inner, vocabulary, epsilon, activation, bos, eos);
    }
}
