using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;

namespace Flover.Actors.Inference;

/// <summary>Turns <c>flover.engine.*</c> into the model's and the decode loop's options.</summary>
public static class EngineSetup
{
    /// <summary>
    /// The KV pool: <c>kv-slots</c> slots of <c>max-positions</c> positions each (0 = the model's
    /// n_positions; more than the model was trained for is refused), the weights' precision
    /// (<c>weight-dtype</c>) and the KV cache's (<c>kv-dtype</c>).
    /// </summary>
    public static Gpt2ModelOptions ModelOptions(EngineSettings settings, Gpt2Config config)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(config);
        EngineModelShape shape = ModelShape(settings, config.MaxPositions, "n_positions");
        return new Gpt2ModelOptions(shape.SlotCount, shape.SlotCapacity, WeightDType: shape.WeightDType) { KvDType = shape.KvDType };
    }

    /// <summary>
    /// What every family's model options take from <c>flover.engine</c>: the slot count, the slot
    /// capacity (<c>max-positions</c>, 0 for the model's own limit, never beyond it) and the weight
    /// and KV precisions, each refused with one line naming the setting.
    /// </summary>
    /// <param name="settings">The engine settings.</param>
    /// <param name="modelPositions">The model's position limit.</param>
    /// <param name="positionsField">The config.json field that sets it, for the error line.</param>
    internal static EngineModelShape ModelShape(EngineSettings settings, int modelPositions, string positionsField)
    {
        if (settings.MaxPositions > modelPositions)
        {
            throw new FloverException($"flover.engine.max-positions = {settings.MaxPositions} exceeds the model's {positionsField} ({modelPositions}).");
        }

        return new EngineModelShape(
            settings.KvSlots,
            settings.MaxPositions == 0 ? modelPositions : settings.MaxPositions,
            TensorDTypeExtensions.ParseWeightDType(settings.WeightDType, "flover.engine.weight-dtype"),
            TensorDTypeExtensions.ParseKvDType(settings.KvDType, "flover.engine.kv-dtype"));
    }

    /// <summary>
    /// The model the configuration describes as shard actors: <c>flover.engine.*</c> (device,
    /// threads, weight precision, KV capacity) split over <c>flover.parallel.tensor</c> shards, each
    /// loading its slice (one shard: the whole model) from <paramref name="weights"/> on its own
    /// thread, with its share of the kernel threads. The weights must stay open while the engine
    /// runs: a replaced shard loads again from them.
    /// </summary>
    /// <param name="settings">The configuration.</param>
    /// <param name="weights">The checkpoint.</param>
    /// <param name="device">Overrides <c>flover.engine.device</c> (ILGPU's CPU accelerator, which configuration cannot name, in tests).</param>
    /// <exception cref="FloverException">The settings do not fit the model (positions, shard count): one line.</exception>
    public static ShardedModel Shards(FloverSettings settings, IModelWeights weights, DeviceSpec? device = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return Shards(settings, weights.Config, weights.Source, device, (engine, options) => Shards(engine, weights, options));
    }

    /// <summary>
    /// The shards of <see cref="Shards(FloverSettings, IModelWeights, DeviceSpec?)"/> over a checkpoint
    /// that is closed once they have loaded (<see cref="ReopenableCheckpoint{T}.Release"/>) and opened again
    /// when a replaced shard loads.
    /// </summary>
    public static ShardedModel Shards(FloverSettings settings, ReopenableWeights weights, DeviceSpec? device = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return Shards(settings, weights.Config, weights.Source, device, (engine, options) => Shards(engine, weights, options));
    }

    /// <summary>
    /// <see cref="Shards(EngineOptions, IModelWeights, Gpt2ModelOptions)"/> over a checkpoint opened
    /// for each load (<see cref="ReopenableCheckpoint{T}.Use{TResult}"/>).
    /// </summary>
    public static ShardedModel Shards(EngineOptions engine, ReopenableWeights weights, Gpt2ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ShardedModel shards = Shards(engine, weights.Config, weights.Source, options, (each, sliced) => weights.Use(open => Gpt2Model.Load(each, open, sliced)));
        // Closed once every shard has loaded; a replaced shard opens it again.
        return new ShardedModel(shards.Shape, shards.ShardCount, shards.Create, shards.Device, shards.Dispatcher) { WhenLoaded = weights.Release };
    }

    /// <summary>
    /// On the CPU, whether the model the settings describe fits this machine's memory (weights, the
    /// whole KV pool, workspace); on a device the shard checks its device memory when it loads.
    /// </summary>
    /// <exception cref="FloverException">It does not fit: one line naming the bytes and the settings to lower.</exception>
    public static void CheckMemory(FloverSettings settings, IModelWeights weights, DeviceSpec? device = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(weights);
        if ((device ?? Device(settings.Engine)).Kind == AcceleratorKind.Cpu)
        {
            HostMemoryPlan.Check(weights, ModelOptions(settings.Engine, weights.Config));
        }
    }

    /// <summary>
    /// As <see cref="CheckMemory(FloverSettings, IModelWeights, DeviceSpec?)"/> for preset
    /// <paramref name="preset"/>, before its weights are generated (gptj-6b's are 23 GB): on the CPU,
    /// the generated copy, the engine's weights, the KV pool and the workspace must fit together.
    /// </summary>
    /// <exception cref="FloverException">They do not fit (one line naming each part).</exception>
    public static void CheckPresetMemory(FloverSettings settings, string preset, DeviceSpec? device = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if ((device ?? Device(settings.Engine)).Kind == AcceleratorKind.Cpu)
        {
            HostMemoryPlan.CheckPreset(preset, ModelOptions(settings.Engine, Gpt2Presets.ConfigOf(preset)));
        }
    }

    private static ShardedModel Shards(FloverSettings settings, Gpt2Config config, string source, DeviceSpec? device, Func<EngineOptions, Gpt2ModelOptions, ShardedModel> make)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Gpt2ModelOptions options = ModelOptions(settings.Engine, config);
        int shards = settings.Parallel.Tensor;
        config.CheckShardCount(shards, source);
        device ??= Device(settings.Engine);
        var engine = new EngineOptions(settings.Engine.Threads, options.WeightDType, shards) { Device = device, BatchInvariant = settings.Engine.BatchInvariant };
        return make(engine, options);
    }

    /// <summary>
    /// <paramref name="weights"/> as <see cref="EngineOptions.TensorParallel"/> shard actors on
    /// <paramref name="engine"/>'s device, each with its share of the kernel threads (at least one;
    /// on a GPU all shards open the same device); <paramref name="options"/> gives the KV capacity,
    /// rows per pass and precision (its slot count is the scheduler's).
    /// </summary>
    public static ShardedModel Shards(EngineOptions engine, IModelWeights weights, Gpt2ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return Shards(engine, weights.Config, weights.Source, options, (each, sliced) => Gpt2Model.Load(each, weights, sliced));
    }

    private static ShardedModel Shards(EngineOptions engine, Gpt2Config config, string source, Gpt2ModelOptions options, Func<EngineOptions, Gpt2ModelOptions, IModel> load)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        config.CheckShardCount(engine.TensorParallel, source);
        int capacity = options.SlotCapacity == 0 ? config.MaxPositions : options.SlotCapacity;
        var shape = new ModelShape(config.VocabularySize, options.SlotCount, capacity, config.KvBytesPerSlot(capacity, options.KvDType));
        return ShardsOf(engine, shape, (each, slots, shard) => load(each, options with { SlotCount = slots, Shard = shard }));
    }

    /// <summary>
    /// <see cref="EngineOptions.TensorParallel"/> shard actors of a model of <paramref name="shape"/>,
    /// either family: each shard gets its share of the kernel threads (at least one; on a GPU all
    /// shards open the same device) and loads with <paramref name="load"/>(its engine options, the
    /// scheduler's slot count, its part of the group, or null for a group of one).
    /// </summary>
    internal static ShardedModel ShardsOf(EngineOptions engine, ModelShape shape, Func<EngineOptions, int, TensorShard?, IModel> load)
    {
        int shards = engine.TensorParallel;
        EngineOptions each = engine with { Threads = Math.Max(1, engine.ResolveThreadCount() / shards) };
        return new ShardedModel(
            shape,
            shards,
            (slots, communicator) => load(each, slots, communicator is null ? null : new TensorShard(communicator)),
            engine.Device.Kind);
    }

    /// <summary>
    /// <c>flover.engine.device</c> as the accelerators are opened from (<see cref="DeviceAccelerators.Open"/>):
    /// <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.
    /// </summary>
    /// <exception cref="FloverException">The value is none of those (FloverSettings.From has already refused it when read from configuration).</exception>
    public static DeviceSpec Device(EngineSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return DeviceSpec.Parse(settings.Device);
    }

    /// <summary>The decode loop's options for a model whose end-of-sequence id is <paramref name="eosTokenId"/>.</summary>
    public static DecodeLoopOptions LoopOptions(EngineSettings settings, int eosTokenId) => DecodeLoopOptions.From(settings, eosTokenId);
}
