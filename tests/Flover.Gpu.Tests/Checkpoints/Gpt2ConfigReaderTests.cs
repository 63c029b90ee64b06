using System.Text.Json.Nodes;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Checkpoints;

public sealed class Gpt2ConfigReaderTests : IDisposable
{
    // openai-community/gpt2's config.json, as published.
    private const string Gpt2ConfigText = """
        {
          "activation_function": "gelu_new",
          "architectures": ["GPT2LMHeadModel"],
          "attn_pdrop": 0.1,
          "bos_token_id": 50256,
          "embd_pdrop": 0.1,
          "eos_token_id": 50256,
          "initializer_range": 0.02,
          "layer_norm_epsilon": 1e-05,
          "model_type": "gpt2",
          "n_ctx": 1024,
          "n_embd": 768,
          "n_head": 12,
          "n_layer": 12,
          "n_positions": 1024,
          "resid_pdrop": 0.1,
          "summary_activation": null,
          "summary_first_dropout": 0.1,
          "summary_proj_to_labels": true,
          "summary_type": "cls_index",
          "summary_use_proj": true,
          "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
          "vocab_size": 50257
        }
        """;

    private readonly string _root = Directory.CreateTempSubdirectory("flover-config-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string ConfigPath => Path.Combine(_root, "config.json");

    [Fact]
    public void GPT2s_published_config_reads_as_the_124M_shape()
    {
        File.WriteAllText(ConfigPath, Gpt2ConfigText);

        Gpt2Config config = Gpt2ConfigReader.Read(ConfigPath);

        Assert.Equal(new Gpt2Config(12, 12, 768, 1024, 3072, 50257, 1e-5f, Gpt2Activation.GeluTanh, 50256, 50256), config);
    }

    [Fact]
    public void Optional_keys_take_GPT2s_defaults_when_absent_or_null()
    {
        Gpt2Config config = Read(new JsonObject
        {
            ["n_layer"] = 1,
            ["n_head"] = 2,
            ["n_embd"] = 4,
            ["n_positions"] = 8,
            ["vocab_size"] = 50257,
            ["n_inner"] = null,
            ["bos_token_id"] = null,
        });

        Assert.Equal(new Gpt2Config(1, 2, 4, 8, 16, 50257, 1e-5f, Gpt2Activation.GeluTanh, 50256, 50256), config);
    }

    [Theory]
    [InlineData("gelu_new", Gpt2Activation.GeluTanh)]
    [InlineData("gelu_pytorch_tanh", Gpt2Activation.GeluTanh)]
    [InlineData("gelu", Gpt2Activation.GeluExact)]
    [InlineData("relu", Gpt2Activation.Relu)]
    public void Each_supported_activation_maps_to_its_kind(string name, Gpt2Activation expected)
    {
        Assert.Equal(expected, Read(With("activation_function", name)).Activation);
    }

    [Fact]
    public void An_explicit_n_inner_and_epsilon_are_kept()
    {
        JsonObject json = With("n_inner", 20);
        json["layer_norm_epsilon"] = 1e-6;

        Gpt2Config config = Read(json);

        Assert.Equal((20, 1e-6f), (config.InnerSize, config.LayerNormEpsilon));
    }

    [Theory]
    [InlineData("n_layer")]
    [InlineData("n_head")]
    [InlineData("n_embd")]
    [InlineData("n_positions")]
    [InlineData("vocab_size")]
    public void A_missing_shape_key_is_named(string key)
    {
        JsonObject json = TestCheckpoint.ConfigJson();
        json.Remove(key);

        Assert.Equal($"{ConfigPath}: key '{key}' is missing.", Fails(json));
    }

    [Theory]
    [InlineData("n_layer", "\"12\"", "a positive integer")]
    [InlineData("n_head", "0", "a positive integer")]
    [InlineData("n_embd", "-8", "a positive integer")]
    [InlineData("n_positions", "16.5", "a positive integer")]
    [InlineData("n_inner", "true", "a positive integer")]
    [InlineData("vocab_size", "3000000000", "a positive integer")]
    [InlineData("layer_norm_epsilon", "0", "a positive finite number")]
    [InlineData("layer_norm_epsilon", "1e300", "a positive finite number")]
    [InlineData("activation_function", "1", "a string")]
    [InlineData("eos_token_id", "[1, 2]", "a non-negative integer token id")]
    public void An_invalid_value_is_named_with_its_key(string key, string rawValue, string expected)
    {
        JsonObject json = TestCheckpoint.ConfigJson();
        json[key] = JsonNode.Parse(rawValue);

        Assert.Equal($"{ConfigPath}: key '{key}' is {json[key]!.ToJsonString()}, not {expected}.", Fails(json));
    }

    [Fact]
    public void An_unsupported_activation_lists_the_supported_ones()
    {
        Assert.Equal(
            $"{ConfigPath}: activation_function 'swish' is not supported (gelu_new, gelu_pytorch_tanh, gelu, relu).",
            Fails(With("activation_function", "swish")));
    }

    [Fact]
    public void A_width_not_divisible_by_the_heads_is_reported()
    {
        Assert.Equal($"{ConfigPath}: n_embd 8 is not divisible by n_head 3.", Fails(With("n_head", 3)));
    }

    [Fact]
    public void A_special_token_outside_the_vocabulary_is_reported()
    {
        Assert.Equal(
            $"{ConfigPath}: key 'eos_token_id' is 40, outside the vocabulary (vocab_size 40).",
            Fails(With("eos_token_id", 40)));
    }

    [Fact]
    public void An_absent_special_token_whose_default_falls_outside_a_small_vocabulary_says_so()
    {
        JsonObject json = TestCheckpoint.ConfigJson();
        json.Remove("bos_token_id");

        Assert.Equal(
            $"{ConfigPath}: key 'bos_token_id' is 50256 (GPT-2's default, as the key is absent), outside the vocabulary (vocab_size 40).",
            Fails(json));
    }

    [Fact]
    public void Another_model_type_is_refused()
    {
        Assert.Equal(
            $"{ConfigPath}: model_type 'llama' is not supported; Flover loads GPT-2 models (model_type 'gpt2').",
            Fails(With("model_type", "llama")));
    }

    [Theory]
    [InlineData("scale_attn_weights", false, "attention scores unscaled by 1/sqrt(head size)")]
    [InlineData("scale_attn_by_inverse_layer_idx", true, "attention scaled by the inverse layer index")]
    [InlineData("add_cross_attention", true, "cross-attention (encoder-decoder) layers")]
    public void Variants_Flover_does_not_compute_are_refused(string key, bool value, string feature)
    {
        Assert.Equal(
            $"{ConfigPath}: key '{key}' is {(value ? "true" : "false")}, which asks for {feature}; Flover does not implement that.",
            Fails(With(key, value)));
    }

    [Fact]
    public void Invalid_json_is_reported_with_the_file()
    {
        File.WriteAllText(ConfigPath, "{\"n_layer\": 2,");

        var error = Assert.Throws<FloverException>(() => Gpt2ConfigReader.Read(ConfigPath));

        Assert.StartsWith($"{ConfigPath}: not valid JSON (", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_top_level_that_is_not_an_object_is_reported()
    {
        File.WriteAllText(ConfigPath, "[]");

        var error = Assert.Throws<FloverException>(() => Gpt2ConfigReader.Read(ConfigPath));

        Assert.Equal($"{ConfigPath}: the top level is Array, not a JSON object.", error.Message);
    }

    [Fact]
    public void A_missing_file_is_reported()
    {
        var error = Assert.Throws<FloverException>(() => Gpt2ConfigReader.Read(ConfigPath));

        Assert.Equal($"{ConfigPath}: not found; a Hugging Face GPT-2 folder holds config.json beside model.safetensors.", error.Message);
    }

    private static JsonObject With(string key, JsonNode? value)
    {
        JsonObject json = TestCheckpoint.ConfigJson();
        json[key] = value;
        return json;
    }

    private Gpt2Config Read(JsonObject json)
    {
        File.WriteAllText(ConfigPath, json.ToJsonString());
        return Gpt2ConfigReader.Read(ConfigPath);
    }

    private string Fails(JsonObject json) => Assert.Throws<FloverException>(() => Read(json)).Message;
}
