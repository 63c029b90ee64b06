using System.Text.Json.Nodes;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models.Llama;
using Flover.Gpu.Tests.Models.Llama;

namespace Flover.Gpu.Tests.Checkpoints;

/// <summary>LLaMA configs and checkpoints Flover cannot run are refused in one line naming the key, architecture or tensor.</summary>
public sealed class LlamaCheckpointErrorTests : IDisposable
{
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), $"flover-llama-errors-{Guid.NewGuid():N}");

    public static TheoryData<string, string, string> BadConfigs => new()
    {
        { """{"architectures": ["MistralForCausalLM"], "model_type": "mistral"}""", "architecture 'MistralForCausalLM'", "LlamaForCausalLM" },
        { """{"architectures": ["Qwen2ForCausalLM"]}""", "architecture 'Qwen2ForCausalLM'", "GPT2LMHeadModel" },
        { """{"num_key_value_heads": 3}""", "key 'num_key_value_heads' is 3", "num_attention_heads 4" },
        { """{"rope_parameters": {"rope_theta": 10000.0, "rope_type": "yarn", "factor": 4.0}}""", "key 'rope_parameters.rope_type' is 'yarn'", "default, linear and llama3" },
        { """{"rope_parameters": null, "rope_scaling": {"type": "dynamic", "factor": 2.0}}""", "key 'rope_scaling.type' is 'dynamic'", "llama3" },
        { """{"rope_parameters": {"rope_theta": 10000.0, "rope_type": "linear"}}""", "key 'rope_parameters.factor' is missing", "" },
        { """{"rope_parameters": {"rope_theta": 10000.0, "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0}}""", "key 'rope_parameters.original_max_position_embeddings' is missing", "" },
        { """{"hidden_act": "gelu"}""", "key 'hidden_act' is 'gelu'", "silu" },
        { """{"head_dim": 15}""", "key 'head_dim' is 15", "even" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void A_config_Flover_cannot_run_is_one_line_naming_the_key_or_architecture(string overrides, string named, string alsoSaid)
    {
        string path = WriteConfig(overrides);

        var error = Assert.Throws<FloverException>(() => LlamaConfigReader.Read(path));

        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains(named, error.Message);
        Assert.Contains(alsoSaid, error.Message);
        Assert.StartsWith(path, error.Message);
    }

    [Fact]
    public void Head_dim_when_given_and_defaults_are_read()
    {
        LlamaConfig config = LlamaConfigReader.Read(WriteConfig("""{"head_dim": 8, "num_key_value_heads": null, "rope_parameters": null}"""));

        Assert.Equal(8, config.HeadSize);
        Assert.Equal(4, config.KvHeadCount);
        Assert.Equal(new LlamaRope(LlamaRopeType.Default, 10000f), config.Rope);
    }

    [Fact]
    public void A_missing_tensor_is_one_line_naming_it()
    {
        string folder = WriteCheckpoint(writer => writer.Remove("model.layers.1.self_attn.k_proj.weight"));

        var error = Assert.Throws<FloverException>(() => LlamaCheckpoint.Load(folder));

        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("tensor 'model.layers.1.self_attn.k_proj.weight' is missing", error.Message);
    }

    [Fact]
    public void A_misshapen_tensor_is_one_line_naming_it_and_both_shapes()
    {
        string folder = WriteCheckpoint(writer => writer.ShapeOverrides["model.layers.0.mlp.up_proj.weight"] = [64, 176]);

        var error = Assert.Throws<FloverException>(() => LlamaCheckpoint.Load(folder));

        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("tensor 'model.layers.0.mlp.up_proj.weight' has shape [64, 176]", error.Message);
        Assert.Contains("expects [176, 64]", error.Message);
    }

    [Fact]
    public void A_bias_the_config_does_not_ask_for_is_one_line_naming_it()
    {
        string folder = WriteCheckpoint(writer => writer.Add("model.layers.0.mlp.down_proj.bias", TensorDType.F32, [64], new float[64]), config => config["mlp_bias"] = false);

        var error = Assert.Throws<FloverException>(() => LlamaCheckpoint.Load(folder));

        Assert.Contains("tensor 'model.layers.0.mlp.down_proj.bias' is not part of a LLaMA model", error.Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(_scratch))
        {
            Directory.Delete(_scratch, recursive: true);
        }
    }

    /// <summary>llama-bias-mha's config.json with <paramref name="overrides"/> merged on top (null removes a key).</summary>
    private string WriteConfig(string overrides, string name = "config")
    {
        JsonObject config = BiasConfig();
        foreach ((string key, JsonNode? value) in JsonNode.Parse(overrides)!.AsObject())
        {
            config.Remove(key);
            if (value is not null)
            {
                config[key] = value.DeepClone();
            }
        }

        string folder = Path.Combine(_scratch, name);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "config.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    /// <summary>A zero-weight checkpoint of llama-bias-mha's shape, edited by <paramref name="edit"/>.</summary>
    private string WriteCheckpoint(Action<SafetensorsWriter> edit, Action<JsonObject>? editConfig = null)
    {
        JsonObject config = BiasConfig();
        editConfig?.Invoke(config);
        string folder = Path.Combine(_scratch, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        LlamaConfig parsed = LlamaConfigReader.Read(Path.Combine(folder, "config.json"));
        var writer = new SafetensorsWriter();
        foreach ((string name, long[] shape) in LlamaTensorNames.Required(parsed))
        {
            writer.Add(name, TensorDType.F32, shape, new float[shape.Aggregate(1L, (a, b) => a * b)]);
        }

        edit(writer);
        return TestCheckpoint.Write(folder, writer, config: null);
    }

    private static JsonObject BiasConfig() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(LlamaReferenceCase.FolderOf("llama-bias-mha"), "config.json")))!.AsObject();
}
