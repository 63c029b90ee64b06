using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Llama;

namespace Flover.Actors.Inference;

/// <summary>
/// <see cref="EngineSetup"/> for LLaMA checkpoints: <c>flover.engine.*</c> as a <see cref="LlamaModel"/>
/// in one shard actor. The decode loop sees only <see cref="IModel"/> and the <see cref="ShardedModel"/>,
/// so it runs either family unchanged.
/// </summary>
public static class LlamaEngineSetup
{
    /// <summary>
    /// The KV pool and precision for <paramref name="config"/>: <c>kv-slots</c> slots of
    /// <c>max-positions</c> positions (0 = the model's max_position_embeddings), <c>weight-dtype</c>.
    /// </summary>
    /// <exception cref="FloverException">max-positions exceeds the model's (one line).</exception>
    public static LlamaModelOptions ModelOptions(EngineSettings settings, LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(config);
        if (settings.MaxPositions > config.MaxPositions)
        {
            throw new FloverException($"flover.engine.max-positions = {settings.MaxPositions} exceeds the model's max_position_embeddings ({config.MaxPositions}).");
        }

        return new LlamaModelOptions(
            settings.KvSlots,
            settings.MaxPositions == 0 ? config.MaxPositions : settings.MaxPositions,
            WeightDType: TensorDTypeExtensions.ParseWeightDType(settings.WeightDType, "flover.engine.weight-dtype"))
        {
            KvDType = TensorDTypeExtensions.ParseKvDType(settings.KvDType, "flover.engine.kv-dtype"),
        };
    }

    /// <summary>
    /// The LLaMA model of <paramref name="weights"/> as one shard actor on <c>flover.engine.device</c>
    /// (or <paramref name="device"/>), loading from the checkpoint, which is released once it has loaded
    /// and reopened when a replaced shard loads.
    /// </summary>
    /// <exception cref="FloverException">Tensor parallelism asked for (not yet for LLaMA), or the settings do not fit the model: one line.</exception>
    public static ShardedModel Shards(FloverSettings settings, ReopenableCheckpoint<LlamaWeights> weights, LlamaConfig config, DeviceSpec? device = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(config);
        if (settings.Parallel.Tensor != 1)
        {
            throw new FloverException($"flover.parallel.tensor = {settings.Parallel.Tensor}: {weights.Source} is a LLaMA model, which runs in one shard in this version (tensor parallelism is GPT-2's for now).");
        }

        LlamaModelOptions options = ModelOptions(settings.Engine, config);
        device ??= EngineSetup.Device(settings.Engine);
        var engine = new EngineOptions(settings.Engine.Threads, options.WeightDType, 1) { Device = device };
        int capacity = options.SlotCapacity;
        var shape = new ModelShape(config.VocabularySize, options.SlotCount, capacity, config.KvBytesPerSlot(capacity, options.KvDType));
        // Closed once the shard has loaded; a replaced shard opens it again.
        return new ShardedModel(
            shape,
            1,
            (slots, _) => weights.Use(open => LlamaModel.Load(engine, open, options with { SlotCount = slots })),
            device.Kind)
        { WhenLoaded = weights.Release };
    }
}
