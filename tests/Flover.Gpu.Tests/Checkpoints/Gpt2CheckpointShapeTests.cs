using System.Text.Json.Nodes;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Tests.Checkpoints;

/// <summary>Checkpoints whose tensors disagree with their config.json, and folders missing a file.</summary>
public sealed class Gpt2CheckpointShapeTests : IDisposable
{
    private const string Described = "n_layer 2, n_head 2, n_embd 8, n_positions 16, n_inner 32, vocab_size 40";

    private readonly string _root = Directory.CreateTempSubdirectory("flover-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string WeightsPath => Path.Combine(_root, Gpt2Checkpoint.SingleFileName);

    private string ConfigPath => Path.Combine(_root, "config.json");

    [Fact]
    public void A_missing_tensor_is_named_with_the_count_of_others()
    {
        var writer = TestCheckpoint.Weights().Remove("transformer.h.1.mlp.c_fc.weight").Remove("transformer.ln_f.bias");

        Assert.Equal(
            $"{WeightsPath}: tensor 'h.1.mlp.c_fc.weight' (and 1 more) is missing (looked for it with and without the 'transformer.' prefix); {ConfigPath} describes {Described}.",
            LoadFails(writer));
    }

    [Fact]
    public void A_misshapen_tensor_names_its_expected_and_actual_shapes()
    {
        var writer = TestCheckpoint.Weights().Remove("transformer.h.0.ln_2.weight").Add("transformer.h.0.ln_2.weight", TensorDType.F32, [9], new float[9]);

        Assert.Equal(
            $"{WeightsPath}: tensor 'transformer.h.0.ln_2.weight' has shape [9] but {ConfigPath} ({Described}) expects [8]: the config is inconsistent with the tensors.",
            LoadFails(writer));
    }

    [Fact]
    public void A_transposed_conv1d_weight_gets_a_layout_hint()
    {
        var writer = TestCheckpoint.Weights().Remove("transformer.h.1.mlp.c_fc.weight").Add("transformer.h.1.mlp.c_fc.weight", TensorDType.F32, [32, 8], new float[256]);

        Assert.Equal(
            $"{WeightsPath}: tensor 'transformer.h.1.mlp.c_fc.weight' has shape [32, 8] but {ConfigPath} ({Described}) expects [8, 32]: the config is inconsistent with the tensors. It looks transposed: GPT-2's Conv1D weights are stored [in, out], as Hugging Face saves them.",
            LoadFails(writer));
    }

    [Fact]
    public void A_config_wider_than_the_tensors_fails_on_the_first_tensor()
    {
        JsonObject config = TestCheckpoint.ConfigJson();
        config["n_embd"] = 16;
        config["n_inner"] = 64;

        string message = LoadFails(TestCheckpoint.Weights(), config);

        Assert.Equal(
            $"{WeightsPath}: tensor 'transformer.wte.weight' has shape [40, 8] but {ConfigPath} (n_layer 2, n_head 2, n_embd 16, n_positions 16, n_inner 64, vocab_size 40) expects [40, 16]: the config is inconsistent with the tensors.",
            message);
    }

    [Fact]
    public void A_block_beyond_n_layer_is_reported_as_an_inconsistent_config()
    {
        JsonObject config = TestCheckpoint.ConfigJson();
        config["n_layer"] = 1;

        Assert.Equal(
            $"{WeightsPath}: tensor 'transformer.h.1.ln_1.weight' belongs to block 1 but {ConfigPath} has n_layer 1: the config is inconsistent with the tensors.",
            LoadFails(TestCheckpoint.Weights(withBuffers: false), config));
    }

    [Fact]
    public void A_misshapen_lm_head_is_reported()
    {
        var writer = TestCheckpoint.Weights().Add("lm_head.weight", TensorDType.F32, [8, 40], new float[320]);

        Assert.Equal(
            $"{WeightsPath}: tensor 'lm_head.weight' has shape [8, 40] but {ConfigPath} ({Described}) expects [40, 8]: the config is inconsistent with the tensors.",
            LoadFails(writer));
    }

    [Fact]
    public void A_folder_without_config_json_is_reported()
    {
        TestCheckpoint.Write(_root, TestCheckpoint.Weights(), config: null);

        var error = Assert.Throws<FloverException>(() => Gpt2Checkpoint.Load(_root));

        Assert.Equal($"{_root}: has no config.json; a Hugging Face GPT-2 folder holds config.json beside model.safetensors.", error.Message);
    }

    [Fact]
    public void A_folder_without_weights_is_reported()
    {
        File.WriteAllText(ConfigPath, TestCheckpoint.ConfigJson().ToJsonString());

        var error = Assert.Throws<FloverException>(() => Gpt2Checkpoint.Load(_root));

        Assert.Equal($"{_root}: has neither model.safetensors nor model.safetensors.index.json.", error.Message);
    }

    [Fact]
    public void A_pytorch_only_folder_says_how_to_convert()
    {
        File.WriteAllText(ConfigPath, TestCheckpoint.ConfigJson().ToJsonString());
        File.WriteAllBytes(Path.Combine(_root, "pytorch_model.bin"), [0]);

        var error = Assert.Throws<FloverException>(() => Gpt2Checkpoint.Load(_root));

        Assert.Contains("It has pytorch_model.bin: Flover reads only safetensors", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_folder_is_reported()
    {
        string missing = Path.Combine(_root, "nope");

        var error = Assert.Throws<FloverException>(() => Gpt2Checkpoint.Load(missing));

        Assert.Equal($"{missing}: no such folder.", error.Message);
    }

    private string LoadFails(SafetensorsWriter writer, JsonObject? config = null)
    {
        TestCheckpoint.Write(_root, writer, config ?? TestCheckpoint.ConfigJson());
        return Assert.Throws<FloverException>(() => Gpt2Checkpoint.Load(_root)).Message;
    }
}
