namespace Flover.Gpu.Checkpoints;

/// <summary>
/// GPT-2 weights as a <see cref="ReopenableCheckpoint{T}"/>, with the model's hyper-parameters
/// known while the checkpoint is closed.
/// </summary>
public sealed class ReopenableWeights : ReopenableCheckpoint<IModelWeights>
{
    /// <summary>Holds <paramref name="weights"/>, already open, and reopens them with <paramref name="open"/> after a release.</summary>
    public ReopenableWeights(IModelWeights weights, Func<IModelWeights> open)
        : base(weights, weights?.Source ?? throw new ArgumentNullException(nameof(weights)), open)
    {
        Config = weights.Config;
    }

    /// <summary>The model's hyper-parameters (known without opening).</summary>
    public Models.Gpt2Config Config { get; }
}
