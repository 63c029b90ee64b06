using Flover.Gpu.Models;

namespace Flover.Gpu.Checkpoints;

/// <summary>Weights whose tensors point into memory-mapped safetensors files; disposing unmaps them.</summary>
internal sealed class MappedModelWeights : IModelWeights
{
    private readonly NamedTensors _tensors;

    public MappedModelWeights(Gpt2Config config, string source, IReadOnlyList<SafetensorsFile> files, Dictionary<string, TensorView> tensors)
    {
        Config = config;
        _tensors = new NamedTensors(typeof(MappedModelWeights), source, tensors, files);
    }

    public Gpt2Config Config { get; }

    public string Source => _tensors.Source;

    public IReadOnlyCollection<string> TensorNames => _tensors.Names;

    public TensorView Get(string name) => _tensors.Get(name);

    public void Dispose() => _tensors.Dispose();
}
