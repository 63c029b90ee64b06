using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Llama;

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

    [Fact]
    public void A_llama_preset_given_to_a_gpt2_only_command_is_one_line()
    {
        var error = Assert.Throws<FloverException>(() => ModelSource.Open(null, LlamaPresets.Tiny));

        Assert.Equal("preset 'llama-tiny' is a LLaMA model; this command takes GPT-2 models (tiny, gpt2, gpt2-medium, gptj-6b).", error.Message);
    }

    [Fact]
    public void Tools_that_take_either_family_open_llama_folders_and_presets_and_gpt2_ones()
    {
        string folder = LlamaReferenceCase.FolderOf("llama-bias-mha");
        using (AnyFamilyWeights llamaFolder = ModelSource.OpenAnyFamily(folder, null))
        {
            Assert.Equal((ModelFamily.Llama, folder), (llamaFolder.Family, llamaFolder.Source));
            Assert.Equal(llamaFolder.Llama!.Config.MaxPositions, llamaFolder.MaxPositions);
        }

        using (AnyFamilyWeights preset = ModelSource.OpenAnyFamily(null, LlamaPresets.Tiny, TensorDType.BF16))
        {
            Assert.Equal((ModelFamily.Llama, 256, 1024, (int?)2), (preset.Family, preset.MaxPositions, preset.VocabularySize, preset.EosTokenId));
            Assert.Equal(TensorDType.BF16, preset.Llama!.Get(LlamaTensorNames.LmHead).DType);
        }

        using (AnyFamilyWeights gpt2 = ModelSource.OpenAnyFamily(null, "tiny", TensorDType.F16))
        {
            Assert.Equal((ModelFamily.Gpt2, (int?)50256), (gpt2.Family, gpt2.EosTokenId));
            Assert.Equal(TensorDType.F16, gpt2.Gpt2!.Get("wte.weight").DType);
        }

        var unknown = Assert.Throws<FloverException>(() => ModelSource.OpenAnyFamily(null, "llama-huge"));
        Assert.Equal("Unknown preset 'llama-huge'; valid presets: tiny, gpt2, gpt2-medium, gptj-6b, llama-tiny, tinyllama-1.1b, llama-3-8b.", unknown.Message);
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
