using Flover.Actors.Hosting;
using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Tokenization;

namespace Flover.Actors.Inference;

/// <summary>
/// What an engine for a model needs, opened and checked before any actor starts: the checkpoint
/// (open while the shards load, reopened for a replaced one), the tokenizer, the shard actors'
/// description and the decode loop's options. One path for <c>serve</c>, <c>generate</c> and
/// <see cref="FloverEngine.Props"/>.
/// </summary>
/// <param name="Weights">The checkpoint; the caller disposes it when the engine stops.</param>
/// <param name="Tokenizer">GPT-2's for presets, the folder's own otherwise.</param>
/// <param name="Shards">The model as shard actors.</param>
/// <param name="Loop">The decode loop's options.</param>
internal sealed record OpenedModel(ReopenableWeights Weights, ITokenizer Tokenizer, ShardedModel Shards, DecodeLoopOptions Loop)
{
    /// <summary>The checkpoint's hyper-parameters.</summary>
    public Gpt2Config Config => Weights.Config;

    /// <summary>
    /// Opens <paramref name="model"/> for <paramref name="settings"/> on <paramref name="device"/>
    /// (null: <c>flover.engine.device</c>): slots, positions, the shard count and, on the CPU, the
    /// memory are checked here, each failure one line.
    /// </summary>
    /// <exception cref="Gpu.FloverException">The model cannot be opened or does not fit the settings or the memory.</exception>
    public static OpenedModel Open(FloverSettings settings, FloverModel model, DeviceSpec? device = null)
    {
        if (model.Preset is not null)
        {
            EngineSetup.CheckPresetMemory(settings, model.Preset, device);
        }

        var weights = new ReopenableWeights(ModelSource.Open(model.Folder, model.Preset), () => ModelSource.Open(model.Folder, model.Preset));
        try
        {
            // A folder's tokenizer.json (LLaMA) or vocab.json + merges.txt (GPT-2).
            ITokenizer tokenizer = model.Folder is null ? Gpt2Tokenizer.Default : TokenizerLoader.FromFolder(ModelLocator.Resolve(model.Folder));
            ShardedModel shards = EngineSetup.Shards(settings, weights, device);
            weights.Use(open =>
            {
                EngineSetup.CheckMemory(settings, open, device);
                return 0;
            });
            // A model padded past its tokenizer (gptj-6b: 50 400 ids over GPT-2's 50 257) never samples the padding.
            DecodeLoopOptions loop = EngineSetup.LoopOptions(settings.Engine, weights.Config.EosTokenId) with { SampledVocabulary = tokenizer.VocabularySize };
            return new OpenedModel(weights, tokenizer, shards, loop);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }
}
