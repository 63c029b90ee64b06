using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models.Gpt2;

public sealed partial class Gpt2Model
{
    /// <summary>
    /// Opens an accelerator on <see cref="EngineOptions.Device"/> (<paramref name="engine"/>'s kernel
    /// threads and weight precision) and loads <paramref name="weights"/> onto it: the whole model,
    /// or the slice of <see cref="Gpt2ModelOptions.Shard"/>. The model owns the accelerator and
    /// closes it when disposed. On a device the whole model's memory is checked first, so a model
    /// that does not fit is one line naming each part instead of an upload failing half-way.
    /// </summary>
    /// <exception cref="FloverException">The device cannot be opened, the model does not fit it, or the options do not fit the model.</exception>
    public static Gpt2Model Load(EngineOptions engine, IModelWeights weights, Gpt2ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        options = options with { WeightDType = engine.WeightDType ?? options.WeightDType };
        return LoadOwning(engine, accelerator =>
        {
            if (accelerator is IlgpuAccelerator device && (options.Shard?.Rank ?? 0) == 0)
            {
                // Shards on one device hold the whole model between them: rank 0 checks it all.
                DeviceMemoryPlan.Check(device, weights, options);
            }

            return new Gpt2Model(accelerator, weights, options);
        });
    }
}
