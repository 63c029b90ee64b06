using System.Text.Json;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Tests.Checkpoints;
using Flover.Host.Cli;

namespace Flover.Host.Tests.Cli;

public sealed class InfoCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("flover-info-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Info_of_a_llama_folder_checks_it_and_prints_its_config_parameters_dtypes_and_bytes()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "TestData", "llama-mqa-tied-linear");

        CliResult json = CliRunner.Run("info", "--model", folder, "--json");
        CliResult text = CliRunner.Run("info", "--model", folder);

        Assert.Equal(0, json.ExitCode);
        JsonElement root = JsonDocument.Parse(json.Stdout).RootElement;
        JsonElement config = root.GetProperty("config");
        Assert.Equal("LlamaForCausalLM", config.GetProperty("architectures").GetString());
        Assert.Equal(3, config.GetProperty("num_attention_heads").GetInt32());
        Assert.Equal(1, config.GetProperty("num_key_value_heads").GetInt32());
        Assert.Equal(32, config.GetProperty("head_dim").GetInt32());
        Assert.Equal("linear", config.GetProperty("rope_type").GetString());
        // 777 x 96 embedding (the tied head) + 2 layers x (q 96x96, k and v 32x96, o 96x96, gate, up and down 200x96, two norms) + the final norm.
        Assert.Equal(239_424, root.GetProperty("parameters").GetInt64());
        Assert.Equal(20, root.GetProperty("tensors").GetInt32());
        Assert.Equal(20, root.GetProperty("dtypes").GetProperty("F32").GetInt32());
        Assert.Equal(239_424 * 4, root.GetProperty("bytes").GetInt64());
        Assert.True(root.GetProperty("lm_head_tied").GetBoolean());
        Assert.Contains("max_position_embeddings 128\n", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("lm_head                 tied to embed_tokens\n", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Info_of_the_tiny_preset_prints_config_parameters_dtypes_and_bytes()
    {
        CliResult result = CliRunner.Run("info", "--preset", "tiny");

        Assert.Equal(0, result.ExitCode);
        string[] lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("source              preset 'tiny' (seed 20230517, random weights)", lines[0]);
        Assert.Equal(
            [
                "n_layer             2",
                "n_head              12",
                "n_embd              96",
                "n_positions         256",
                "n_inner             384",
                "vocab_size          50257",
                "layer_norm_epsilon  1E-05",
                "activation_function gelu_new",
                "bos_token_id        50256",
                "eos_token_id        50256",
                "parameters          5073120 (5.1 M)",
                "tensors             28 (F32: 28)",
                "lm_head             tied to wte",
                "bytes               20292480 (19.4 MiB)",
                "gemm                batch-invariant (flover.engine.batch-invariant = on): fused == alone bitwise, exact failover",
            ],
            lines[1..]);
        Assert.StartsWith("loaded and checked preset 'tiny'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Info_with_json_writes_only_json_to_stdout()
    {
        CliResult result = CliRunner.Run("info", "--preset", "tiny", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        JsonElement root = json.RootElement;
        Assert.Equal("preset 'tiny' (seed 20230517, random weights)", root.GetProperty("source").GetString());
        Assert.Equal(96, root.GetProperty("config").GetProperty("n_embd").GetInt32());
        Assert.Equal("gelu_new", root.GetProperty("config").GetProperty("activation_function").GetString());
        Assert.Equal(5073120, root.GetProperty("parameters").GetInt64());
        Assert.Equal(28, root.GetProperty("dtypes").GetProperty("F32").GetInt32());
        Assert.Equal(20292480, root.GetProperty("bytes").GetInt64());
        Assert.True(root.GetProperty("lm_head_tied").GetBoolean());
        Assert.DoesNotContain("loaded", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Info_of_a_checkpoint_folder_reports_its_stored_dtypes()
    {
        TestCheckpoint.Write(_root, TestCheckpoint.Weights(dtype: TensorDType.BF16), TestCheckpoint.ConfigJson());

        CliResult result = CliRunner.Run("info", "--model", _root, "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(_root, json.RootElement.GetProperty("source").GetString());
        Assert.Equal(28, json.RootElement.GetProperty("dtypes").GetProperty("BF16").GetInt32());
        Assert.Equal(2, json.RootElement.GetProperty("config").GetProperty("n_layer").GetInt32());
    }

    [Fact]
    public void A_corrupt_checkpoint_fails_with_one_line_on_stderr_and_nothing_on_stdout()
    {
        SafetensorsWriter weights = TestCheckpoint.Weights(withBuffers: false);
        weights.TruncateBy = 4;
        TestCheckpoint.Write(_root, weights, TestCheckpoint.ConfigJson());

        CliResult result = CliRunner.Run("info", "--model", _root, "--json");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Empty(result.Stdout);
        string line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: {Path.Combine(_root, "model.safetensors")}: tensor 'transformer.ln_f.bias' has data_offsets", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_holding_an_infinity_fails_naming_the_tensor()
    {
        float[] values = TestCheckpoint.ValuesOf("wpe.weight", [16, 8]);
        values[100] = float.NegativeInfinity;
        SafetensorsWriter weights = TestCheckpoint.Weights().Remove("transformer.wpe.weight").Add("transformer.wpe.weight", TensorDType.F32, [16, 8], values);
        TestCheckpoint.Write(_root, weights, TestCheckpoint.ConfigJson());

        CliResult result = CliRunner.Run("info", "--model", _root);

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.EndsWith(
            $"error: {_root}: tensor 'wpe.weight' holds 1 NaN or infinite values: the weights are corrupt or the model diverged.\n",
            result.Stderr,
            StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_preset_fails_listing_the_valid_ones()
    {
        CliResult result = CliRunner.Run("info", "--preset", "huge");

        Assert.Equal((FloverCli.UserErrorExitCode, "error: Unknown preset 'huge'; valid presets: tiny, gpt2, gpt2-medium, gptj-6b.\n"), (result.ExitCode, result.Stderr));
    }

    [Fact]
    public void Both_model_and_preset_fail()
    {
        CliResult result = CliRunner.Run("info", "--preset", "tiny", "--model", _root);

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.StartsWith("error: Give either --model or --preset, not both", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Neither_model_nor_preset_fails()
    {
        CliResult result = CliRunner.Run("info");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.StartsWith("error: Give --model DIR|NAME", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_name_absent_from_the_cache_fails_without_downloading()
    {
        CliResult result = CliRunner.Run("info", "--model", "flover-tests/no-such-model");

        Assert.Equal(FloverCli.UserErrorExitCode, result.ExitCode);
        Assert.Contains("'flover-tests/no-such-model' is neither a folder nor in the local Hugging Face cache", result.Stderr, StringComparison.Ordinal);
    }
}
