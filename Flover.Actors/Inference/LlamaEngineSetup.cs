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
        EngineModelShape shape = EngineSetup.ModelShape(settings, config.MaxPositions, "max_position_embeddings");
        return new LlamaModelOptions(shape.SlotCount, shape.SlotCapacity, WeightDType: shape.WeightDType) { KvDType = shape.KvDType };
    }

    /// <summary>
    /// The LLaMA model of <paramref name="weights"/> as <c>flover.parallel.tensor</c> shard actors on
    /// <c>flover.engine.device</c> (or <paramref name="device"/>), loading from the checkpoint, which is
    /// released once they have loaded and reopened when a replaced shard loads.
    /// </summary>
    /// <exception cref="FloverException">The settings do not fit the model (the heads do not split over the shards, too many positions): one line.</exception>
    public static ShardedModel Shards(FloverSettings settings, ReopenableCheckpoint<LlamaWeights> weights, LlamaConfig config, DeviceSpec? device = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(config);
        LlamaModelOptions options = ModelOptions(settings.Engine, config);
        device ??= EngineSetup.Device(settings.Engine);
        var engine = new EngineOptions(settings.Engine.Threads, options.WeightDType, settings.Parallel.Tensor) { Device = device, BatchInvariant = settings.Engine.BatchInvariant };
        ShardedModel shards = Shards(engine, config, weights.Source, options, (each, sliced) => weights.Use(open => LlamaModel.Load(each, open, sliced)));
        // Closed once every shard has loaded; a replaced shard opens it again.
        return new ShardedModel(shards.Shape, shards.ShardCount, shards.Create, shards.Device, shards.Dispatcher) { WhenLoaded = weights.Release };
    }

    /// <summary>
    /// <paramref name="weights"/> as <see cref="EngineOptions.TensorParallel"/> shard actors on
    /// <paramref name="engine"/>'s device; <paramref name="options"/> gives the KV capacity and
    /// precision, rows per pass and weight precision (its slot count is the scheduler's).
    /// </summary>
    /// <exception cref="FloverException">The heads do not split over the shards (one line).</exception>
    public static ShardedModel Shards(EngineOptions engine, LlamaWeights weights, LlamaModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return Shards(engine, weights.Config, weights.Source, options, (each, sliced) => LlamaModel.Load(each, weights, sliced));
    }

    private static ShardedModel Shards(EngineOptions engine, LlamaConfig config, string source, LlamaModelOptions options, Func<EngineOptions, LlamaModelOptions, IModel> load)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        config.CheckShardCount(engine.TensorParallel, source);
        int capacity = options.SlotCapacity == 0 ? config.MaxPositions : options.SlotCapacity;
        var shape = new ModelShape(config.VocabularySize, options.SlotCount, capacity, config.KvBytesPerSlot(capacity, options.KvDType));
        return EngineSetup.ShardsOf(engine, shape, (each, slots, shard) => load(each, options with { SlotCount = slots, Shard = shard }));
    }
}
