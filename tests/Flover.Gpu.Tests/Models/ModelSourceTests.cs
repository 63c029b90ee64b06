using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Tests.Checkpoints;

namespace Flover.Gpu.Tests.Models;

public sealed class ModelSourceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("flover-source-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_preset_name_opens_the_preset()
    {
        using IModelWeights weights = ModelSource.Open(null, "tiny");

        Assert.Equal(Gpt2Presets.ConfigOf("tiny"), weights.Config);
        Assert.StartsWith("preset 'tiny'", weights.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_opens_the_checkpoint_in_it()
    {
        string folder = TestCheckpoint.Write(Path.Combine(_root, "model"), TestCheckpoint.Weights(), TestCheckpoint.ConfigJson());

        using IModelWeights weights = ModelSource.Open(folder, null);

        Assert.Equal((TestCheckpoint.Config, folder), (weights.Config, weights.Source));
    }

    [Fact]
    public void A_model_name_opens_the_snapshot_in_the_Hugging_Face_cache()
    {
        string snapshot = Path.Combine(_root, "hub", "models--org--small", "snapshots", "abc");
        TestCheckpoint.Write(snapshot, TestCheckpoint.Weights(), TestCheckpoint.ConfigJson());

        using IModelWeights weights = ModelSource.Open("org/small", null, name => name == "HF_HOME" ? _root : null);

        Assert.Equal(snapshot, weights.Source);
    }

    [Theory]
    [InlineData("./models/gpt2")]
    [InlineData("/nowhere/gpt2")]
    [InlineData("a/b/c")]
    public void A_missing_path_is_reported_as_a_missing_folder_not_a_cache_miss(string model)
    {
        var error = Assert.Throws<FloverException>(() => ModelSource.Open(model, null, _ => null));

        Assert.Equal(
            $"{Path.GetFullPath(model)}: no such folder (--model takes a Hugging Face GPT-2 folder or a model id such as openai-community/gpt2).",
            error.Message);
    }

    [Fact]
    public void Both_a_model_and_a_preset_are_refused()
    {
        var error = Assert.Throws<FloverException>(() => ModelSource.Open("gpt2", "tiny"));

        Assert.Equal("Give either --model or --preset, not both (got --model 'gpt2' and --preset 'tiny').", error.Message);
    }

    [Fact]
    public void Neither_a_model_nor_a_preset_is_refused_with_the_choices()
    {
        var error = Assert.Throws<FloverException>(() => ModelSource.Open(null, " "));

        Assert.Equal("Give --model DIR|NAME (a Hugging Face GPT-2 folder or cached model) or --preset NAME (tiny, gpt2, gpt2-medium, gptj-6b).", error.Message);
    }
}
