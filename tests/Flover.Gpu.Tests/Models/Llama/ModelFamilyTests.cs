using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Models.Llama;

/// <summary>A folder's family is told from its config.json before anything loads; an architecture Flover does not run is one line.</summary>
public sealed class ModelFamilyTests : IDisposable
{
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), $"flover-family-{Guid.NewGuid():N}");

    [Theory]
    [InlineData("""{"architectures": ["LlamaForCausalLM"]}""", ModelFamily.Llama)]
    [InlineData("""{"model_type": "llama"}""", ModelFamily.Llama)]
    [InlineData("""{"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}""", ModelFamily.Gpt2)]
    [InlineData("""{"n_layer": 2}""", ModelFamily.Gpt2)]
    public void The_family_follows_architectures_then_model_type(string config, ModelFamily family)
    {
        Assert.Equal(family, ModelFamilies.Of(Write(config)));
    }

    [Fact]
    public void Another_architecture_is_one_line_naming_it_and_what_is_supported()
    {
        string folder = Write("""{"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"}""");

        var error = Assert.Throws<FloverException>(() => ModelFamilies.Of(folder));

        Assert.Equal($"{Path.Combine(folder, "config.json")}: architecture 'Qwen2ForCausalLM' is not supported; Flover runs GPT2LMHeadModel and LlamaForCausalLM.", error.Message);
    }

    [Fact]
    public void A_llama_folder_given_to_a_gpt2_only_command_is_one_line()
    {
        var error = Assert.Throws<FloverException>(() => ModelSource.Open(LlamaReferenceCase.FolderOf("llama-bias-mha"), preset: null));

        Assert.Contains("a LLaMA model (LlamaForCausalLM)", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(_scratch))
        {
            Directory.Delete(_scratch, recursive: true);
        }
    }

    private string Write(string config)
    {
        string folder = Path.Combine(_scratch, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), config);
        return folder;
    }
}
