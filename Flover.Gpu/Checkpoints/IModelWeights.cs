using Flover.Gpu.Models;

namespace Flover.Gpu.Checkpoints;

/// <summary>
/// The weights of one GPT-2 model, whatever their origin: a memory-mapped Hugging Face folder,
/// a preset's seeded random weights, or a test's hand-made tensors. Tensors are addressed by
/// their canonical names (<see cref="Gpt2TensorNames"/>); every tensor has been validated
/// against <see cref="Config"/> before this object is handed out.
/// </summary>
public interface IModelWeights : IDisposable
{
    /// <summary>The model's hyper-parameters.</summary>
    Gpt2Config Config { get; }

    /// <summary>A short description of where the weights come from (a folder, a preset name).</summary>
    string Source { get; }

    /// <summary>The canonical names of every tensor held.</summary>
    IReadOnlyCollection<string> TensorNames { get; }

    /// <summary>Returns the tensor with canonical name <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor.</exception>
    TensorView Get(string name);
}
