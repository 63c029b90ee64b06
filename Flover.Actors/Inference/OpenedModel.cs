using Flover.Actors.Hosting;
using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Llama;
using Flover.Gpu.Tokenization;

namespace Flover.Actors.Inference;

/// <summary>
/// What an engine for a model needs, opened and checked before any actor starts: the checkpoint
/// (open while the shards load, reopened for a replaced one), the tokenizer, the shard actors'
/// description and the decode loop's options. One path for <c>serve</c>, <c>generate</c> and
/// <see cref="FloverEngine.Props"/>.
/// </summary>
/// <param name="Weights">The checkpoint, of either family; the caller disposes it when the engine stops.</param>
/// <param name="Tokenizer">GPT-2's for presets, the folder's own otherwise.</param>
/// <param name="Shards">The model as shard actors.</param>
/// <param name="Loop">The decode loop's options.</param>
/// <param name="VocabularySize">The model's logits width.</param>
/// <param name="EosTokenId">The model's end-of-sequence id.</param>
internal sealed record OpenedModel(IEngineCheckpoint Weights, ITokenizer Tokenizer, ShardedModel Shards, DecodeLoopOptions Loop, int VocabularySize, int EosTokenId)
{
    /// <summary>
    /// Opens <paramref name="model"/> for <paramref name="settings"/> on <paramref name="device"/>
    /// (null: <c>flover.engine.device</c>): slots, positions, the shard count and, on the CPU, the
    /// memory are checked here, each failure one line.
    /// </summary>
    /// <exception cref="Gpu.FloverException">The model cannot be opened or does not fit the settings or the memory.</exception>
    public static OpenedModel Open(FloverSettings settings, FloverModel model, DeviceSpec? device = null)
    {
        RefuseLlamaPreset(model);

        if (model.Preset is not null)
        {
            EngineSetup.CheckPresetMemory(settings, model.Preset, device);
        }
        else if (model.Folder is not null && ModelFamilies.Of(ModelLocator.Resolve(model.Folder)) == ModelFamily.Llama)
        {
            return OpenLlama(settings, ModelLocator.Resolve(model.Folder), device);
        }

        // On a GPU a preset's weights are generated in device memory (gptj-6b's 23 GB never on the host).
        bool deferPreset = (device ?? EngineSetup.Device(settings.Engine)).Kind != AcceleratorKind.Cpu;
        var weights = new ReopenableWeights(ModelSource.Open(model.Folder, model.Preset, deferPreset), () => ModelSource.Open(model.Folder, model.Preset, deferPreset));
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
            return new OpenedModel(weights, tokenizer, shards, loop, weights.Config.VocabularySize, weights.Config.EosTokenId);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>A LLaMA folder: its checkpoint, its tokenizer.json, one shard actor running a <see cref="Gpu.Models.Llama.LlamaModel"/>.</summary>
    private static OpenedModel OpenLlama(FloverSettings settings, string folder, DeviceSpec? device)
    {
        LlamaWeights opened = LlamaCheckpoint.Load(folder);
        var weights = new ReopenableCheckpoint<LlamaWeights>(opened, opened.Source, () => LlamaCheckpoint.Load(folder));
        try
        {
            LlamaConfig config = opened.Config;
            ITokenizer tokenizer = TokenizerLoader.FromFolder(folder);
            ShardedModel shards = LlamaEngineSetup.Shards(settings, weights, config, device);
            if ((device ?? EngineSetup.Device(settings.Engine)).Kind == Gpu.Accelerators.AcceleratorKind.Cpu)
            {
                // Weights, the whole KV pool and the workspace against the memory available, before any shard loads.
                Gpu.Accelerators.HostMemoryPlan.Check(opened, LlamaEngineSetup.ModelOptions(settings.Engine, config));
            }

            int[] eosIds = LlamaEosIds(folder, config, tokenizer);
            int eos = eosIds[0];
            DecodeLoopOptions loop = EngineSetup.LoopOptions(settings.Engine, eos) with
            {
                SampledVocabulary = Math.Min(tokenizer.VocabularySize, config.VocabularySize),
                MoreEosTokenIds = eosIds.Length > 1 ? eosIds[1..] : null,
            };
            return new OpenedModel(weights, tokenizer, shards, loop, config.VocabularySize, eos);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>A LLaMA preset has random weights and no tokenizer; an engine that speaks text needs one.</summary>
    /// <exception cref="Gpu.FloverException"><paramref name="model"/> is a LLaMA preset.</exception>
    internal static void RefuseLlamaPreset(FloverModel model)
    {
        if (model.Preset is not null && LlamaPresets.IsPreset(model.Preset))
        {
            throw new Gpu.FloverException($"preset '{model.Preset}' is a LLaMA shape without a tokenizer, which serving text needs; serve a LLaMA folder (--model) or a GPT-2 preset ({string.Join(", ", Gpt2Presets.Names)}); LLaMA presets run in bench-decode and bench.");
        }
    }

    /// <summary>
    /// A LLaMA folder's end-of-sequence ids, never empty: the warm-up prompt and the loop's stop both
    /// need one, config.json's first, else generation_config.json's, else the tokenizer's; any of them
    /// (and of the lists) stops a request.
    /// </summary>
    /// <exception cref="Gpu.FloverException">None of them names one.</exception>
    internal static int[] LlamaEosIds(string folder, LlamaConfig config, ITokenizer tokenizer)
    {
        int[] eosIds = [.. EndOfSequenceIds.Read(folder, config.VocabularySize).Concat(tokenizer.EosTokenId is { } own && own < config.VocabularySize ? [own] : []).Distinct()];
        return eosIds.Length > 0 ? eosIds : throw new Gpu.FloverException($"{folder}: neither config.json, generation_config.json nor the tokenizer names an end-of-sequence token (eos_token_id).");
    }
}
