using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Checkpoints.Llama;

/// <summary>
/// The weights of one LLaMA model: tensors under their Hugging Face names (<see cref="LlamaTensorNames"/>),
/// each checked against <see cref="Config"/> before this object is handed out. <see cref="LlamaTensorNames.LmHead"/>
/// returns the token embedding when the two are tied. Views are valid until this object is disposed.
/// </summary>
public sealed class LlamaWeights : IDisposable
{
    private readonly Dictionary<string, TensorView> _tensors;
    private readonly IReadOnlyList<IDisposable> _owned;
    private bool _disposed;

    internal LlamaWeights(LlamaConfig config, string source, Dictionary<string, TensorView> tensors, IReadOnlyList<IDisposable> owned)
    {
        Config = config;
        Source = source;
        _tensors = tensors;
        _owned = owned;
    }

    /// <summary>The model's hyper-parameters.</summary>
    public LlamaConfig Config { get; }

    /// <summary>Where the weights come from (a folder, a preset name), as messages name it.</summary>
    public string Source { get; }

    /// <summary>The names of every tensor held.</summary>
    public IReadOnlyCollection<string> TensorNames => _tensors.Keys;

    /// <summary>Returns the tensor named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor.</exception>
    public TensorView Get(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tensors.TryGetValue(name, out TensorView? view)
            ? view
            : throw new KeyNotFoundException($"{Source} has no tensor '{name}'.");
    }

    /// <summary>The tensor named <paramref name="name"/>, or null when the checkpoint has none (a bias the config does not ask for).</summary>
    public TensorView? Find(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tensors.GetValueOrDefault(name);
    }

    /// <summary>Unmaps the files (or frees the memory) the tensors point into.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }
    }
}
