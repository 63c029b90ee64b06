using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints.Llama;

namespace Flover.Gpu.Models.Llama;

public sealed partial class LlamaModel
{
    private Accelerator? _ownedAccelerator;

    /// <summary>
    /// Opens an accelerator on <see cref="EngineOptions.Device"/> (<paramref name="engine"/>'s kernel
    /// threads and weight precision) and loads <paramref name="weights"/> onto it; the model owns the
    /// accelerator and closes it when disposed.
    /// </summary>
    /// <exception cref="FloverException">The device cannot be opened, or the options do not fit the model.</exception>
    public static LlamaModel Load(EngineOptions engine, LlamaWeights weights, LlamaModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        options = options with { WeightDType = engine.WeightDType ?? options.WeightDType };
        Accelerator accelerator = DeviceAccelerators.Open(engine.Device, engine);
        try
        {
            var model = new LlamaModel(accelerator, weights, options);
            model._ownedAccelerator = accelerator;
            return model;
        }
        catch
        {
            accelerator.Dispose();
            throw;
        }
    }

    /// <summary>What runs the model (SIMD width or device, threads).</summary>
    public string DeviceDetails => _accelerator.Device.Details;
}
