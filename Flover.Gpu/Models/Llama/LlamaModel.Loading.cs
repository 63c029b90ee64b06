using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints.Llama;

namespace Flover.Gpu.Models.Llama;

public sealed partial class LlamaModel
{
    /// <summary>
    /// Opens an accelerator on <see cref="EngineOptions.Device"/> (<paramref name="engine"/>'s kernel
    /// threads and weight precision) and loads <paramref name="weights"/> onto it; the model owns the
    /// accelerator and closes it when disposed. On a device the whole model's memory is checked first,
    /// so a model that does not fit is one line naming each part instead of an upload failing half-way.
    /// </summary>
    /// <exception cref="FloverException">The device cannot be opened, the model does not fit it, or the options do not fit the model.</exception>
    public static LlamaModel Load(EngineOptions engine, LlamaWeights weights, LlamaModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        options = options with { WeightDType = engine.WeightDType ?? options.WeightDType };
        return LoadOwning(engine, accelerator =>
        {
            if (accelerator is Accelerators.Ilgpu.IlgpuAccelerator device && (options.Shard?.Rank ?? 0) == 0)
            {
                // Shards on one device hold the whole model between them: rank 0 checks it all.
                Accelerators.Ilgpu.DeviceMemoryPlan.Check(device, weights, options);
            }

            return new LlamaModel(accelerator, weights, options);
        });
    }
}
