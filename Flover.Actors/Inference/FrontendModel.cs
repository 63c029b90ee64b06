using Flover.Actors.Hosting;
using Flover.Configuration;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Llama;
using Flover.Gpu.Tokenization;

namespace Flover.Actors.Inference;

/// <summary>
/// What a cluster frontend that runs no engine needs of the model it routes: the tokenizer (to
/// read prompts and write text) and the shape requests are checked against (context, vocabulary,
/// end-of-sequence). It is read from the folder's <c>config.json</c> and tokenizer files, or the
/// preset's table: no weights are mapped or generated, and no memory check is made for a model
/// only the workers hold, so a small machine can front a cluster of large ones.
/// </summary>
/// <param name="Tokenizer">GPT-2's for presets, the folder's own otherwise.</param>
/// <param name="SlotCapacity">Positions a request may use (<c>flover.engine.max-positions</c>, or the model's).</param>
/// <param name="VocabularySize">The model's logits width.</param>
/// <param name="EosTokenId">The model's end-of-sequence id.</param>
internal sealed record FrontendModel(ITokenizer Tokenizer, int SlotCapacity, int VocabularySize, int EosTokenId)
{
    /// <summary>Reads <paramref name="model"/>'s shape and tokenizer.</summary>
    /// <exception cref="Gpu.FloverException">The model cannot be read, or the settings do not fit it: one line.</exception>
    public static FrontendModel Open(FloverSettings settings, FloverModel model)
    {
        OpenedModel.RefuseLlamaPreset(model);
        if (model.Preset is { } preset)
        {
            Gpt2Config config = Gpt2Presets.ConfigOf(preset);
            return new FrontendModel(Gpt2Tokenizer.Default, Capacity(settings, config.MaxPositions, "n_positions"), config.VocabularySize, config.EosTokenId);
        }

        string folder = ModelLocator.Resolve(model.Folder!);
        string configPath = Path.Combine(folder, Gpt2ConfigReader.FileName);
        ITokenizer tokenizer = TokenizerLoader.FromFolder(folder);
        if (ModelFamilies.Of(folder) == ModelFamily.Llama)
        {
            LlamaConfig llama = LlamaConfigReader.Read(configPath);
            return new FrontendModel(tokenizer, Capacity(settings, llama.MaxPositions, "max_position_embeddings"), llama.VocabularySize, OpenedModel.LlamaEosIds(folder, llama, tokenizer)[0]);
        }

        Gpt2Config gpt2 = Gpt2ConfigReader.Read(configPath);
        return new FrontendModel(tokenizer, Capacity(settings, gpt2.MaxPositions, "n_positions"), gpt2.VocabularySize, gpt2.EosTokenId);
    }

    private static int Capacity(FloverSettings settings, int modelPositions, string positionsField) =>
        EngineSetup.ModelShape(settings.Engine, modelPositions, positionsField).SlotCapacity;
}
