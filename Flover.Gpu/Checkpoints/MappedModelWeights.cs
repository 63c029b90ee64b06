using Flover.Gpu.Models;

namespace Flover.Gpu.Checkpoints;

/// <summary>Weights whose tensors point into memory-mapped safetensors files; disposing unmaps them.</summary>
internal sealed class MappedModelWeights : IModelWeights
{
    private readonly IReadOnlyList<SafetensorsFile> _files;
    private readonly Dictionary<string, TensorView> _tensors;
    private bool _disposed;

    public MappedModelWeights(Gpt2Config config, string source, IReadOnlyList<SafetensorsFile> files, Dictionary<string, TensorView> tensors)
    {
        Config = config;
        Source = source;
        _files = files;
        _tensors = tensors;
    }

    public Gpt2Config Config { get; }

    public string Source { get; }

    public IReadOnlyCollection<string> TensorNames => _tensors.Keys;

    public TensorView Get(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tensors.TryGetValue(name, out TensorView? view)
            ? view
            : throw new KeyNotFoundException($"{Source} has no tensor '{name}'.");
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (SafetensorsFile file in _files)
        {
            file.Dispose();
        }
    }
}
