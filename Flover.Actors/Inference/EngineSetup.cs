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
    /// n_positions; more than the model was trained for is refused), and the weights' precision
    /// (<c>weight-dtype</c>).
    /// </summary>
    public static Gpt2ModelOptions ModelOptions(EngineSettings settings, Gpt2Config config)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(config);
        if (settings.MaxPositions > config.MaxPositions)
        {
            throw new FloverException($"flover.engine.max-positions = {settings.MaxPositions} exceeds the model's n_positions ({config.MaxPositions}).");
        }

        return new Gpt2ModelOptions(
            settings.KvSlots,
            settings.MaxPositions == 0 ? config.MaxPositions : settings.MaxPositions,
            WeightDType: TensorDTypeExtensions.ParseWeightDType(settings.WeightDType, "flover.engine.weight-dtype"));
    }

    /// <summary>
    /// Loads the model the configuration describes: <c>flover.engine.*</c> (device, threads, weight precision,
    /// KV pool) split over <c>flover.parallel.tensor</c> shards (one shard is the whole model). The
    /// returned model owns its accelerators.
    /// </summary>
    /// <exception cref="FloverException">The settings do not fit the model (slots, positions, shard count), or the device cannot be opened (no CUDA driver or GPU, out of device memory): one line.</exception>
    public static TensorParallelModel LoadModel(FloverSettings settings, IModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(weights);
        Gpt2ModelOptions options = ModelOptions(settings.Engine, weights.Config);
        var engine = new EngineOptions(settings.Engine.Threads, options.WeightDType, settings.Parallel.Tensor) { Device = Device(settings.Engine) };
        return TensorParallelModel.Load(engine, weights, options);
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
