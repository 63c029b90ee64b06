using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models.Gpt2;

/// <summary>
/// GPT-2 weights uploaded once to an accelerator, for several <see cref="Gpt2Model"/> instances
/// to share (the concurrent-instances baseline): each instance keeps its own KV pool, workspace
/// and workers, and only reads these. The models do not own them: dispose this after every model
/// built on it.
/// </summary>
public sealed class Gpt2SharedWeights : IDisposable
{
    /// <summary>Uploads <paramref name="weights"/> to <paramref name="accelerator"/> (read during construction only).</summary>
    /// <param name="accelerator">Where the weights live.</param>
    /// <param name="weights">The checkpoint or preset.</param>
    /// <param name="weightDType">The precision of the matrices (null: as stored), as <see cref="Gpt2ModelOptions.WeightDType"/>.</param>
    /// <exception cref="FloverException">A tensor is missing or misshapen.</exception>
    public Gpt2SharedWeights(Accelerator accelerator, IModelWeights weights, TensorDType? weightDType = null)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(weights);
        Accelerator = accelerator;
        Config = weights.Config;
        Source = weights.Source;
        Device = new Gpt2DeviceWeights(accelerator, weights, weightDType);
    }

    /// <summary>The accelerator the weights live on; a model may run on any accelerator that <see cref="Accelerators.Accelerator.SharesMemoryWith"/> it.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The model's hyper-parameters.</summary>
    public Gpt2Config Config { get; }

    /// <summary>Where the weights came from (a folder or a preset name).</summary>
    public string Source { get; }

    /// <summary>Bytes held on the accelerator.</summary>
    public long ByteSize => Device.ByteSize;

    internal Gpt2DeviceWeights Device { get; }

    /// <summary>Frees the weights; models built on them must not run afterwards.</summary>
    public void Dispose() => Device.Dispose();
}
