using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Checkpoints.Llama;

/// <summary>
/// The weights of one LLaMA model: tensors under their Hugging Face names (<see cref="LlamaTensorNames"/>),
/// each checked against <see cref="Config"/> before this object is handed out. <see cref="LlamaTensorNames.LmHead"/>
/// returns the token embedding when the two are tied. Views are valid until this object is disposed.
/// </summary>
public sealed class LlamaWeights : IDisposable
{
    private readonly NamedTensors _tensors;

    internal LlamaWeights(LlamaConfig config, string source, Dictionary<string, TensorView> tensors, IReadOnlyList<IDisposable> owned)
    {
        Config = config;
        _tensors = new NamedTensors(typeof(LlamaWeights), source, tensors, owned);
    }

    /// <summary>The model's hyper-parameters.</summary>
    public LlamaConfig Config { get; }

    /// <summary>Where the weights come from (a folder, a preset name), as messages name it.</summary>
    public string Source => _tensors.Source;

    /// <summary>The names of every tensor held.</summary>
    public IReadOnlyCollection<string> TensorNames => _tensors.Names;

    /// <summary>Returns the tensor named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor.</exception>
    public TensorView Get(string name) => _tensors.Get(name);

    /// <summary>The tensor named <paramref name="name"/>, or null when the checkpoint has none (a bias the config does not ask for).</summary>
    public TensorView? Find(string name) => _tensors.Find(name);

    /// <summary>Unmaps the files (or frees the memory) the tensors point into.</summary>
    public void Dispose() => _tensors.Dispose();
}
