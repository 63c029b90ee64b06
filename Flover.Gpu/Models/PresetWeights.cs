using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models;

/// <summary>
/// A GPT-2 preset's weights as recipes (<see cref="GeneratedTensor"/>), made only where they are
/// needed: a model on an accelerator that <see cref="Accelerators.Accelerator.GeneratesOnDevice"/>
/// asks it to make each tensor in its own memory (gptj-6b's 23 GB never exist on the host), while
/// anything that reads a tensor's bytes (<see cref="Get"/>: the CPU engine, a tensor-parallel
/// slice) gets the host generator's copy of the whole preset, made once on first use.
/// </summary>
internal sealed class PresetWeights : IModelWeights
{
    private readonly Dictionary<string, GeneratedTensor> _recipes;
    private readonly Lazy<NativeModelWeights> _host;
    private bool _disposed;

    /// <summary>Preset <paramref name="name"/> (of <see cref="Gpt2Presets.Names"/>) under <paramref name="seed"/>, its values rounded to <paramref name="dtype"/>.</summary>
    /// <exception cref="FloverException">Not a preset name.</exception>
    public PresetWeights(string name, ulong seed = Gpt2Presets.DefaultSeed, TensorDType dtype = TensorDType.F32)
    {
        Config = Gpt2Presets.ConfigOf(name);
        Source = Gpt2Presets.SourceOf(name, seed);
        DType = dtype;
        _recipes = PresetWeightGenerator.Describe(Config, seed, dtype).ToDictionary(tensor => tensor.Name, StringComparer.Ordinal);
        // The LM head is tied to the token embedding, as the host copy's alias makes it.
        _recipes[Gpt2TensorNames.LmHead] = _recipes[Gpt2TensorNames.TokenEmbedding];
        _host = new Lazy<NativeModelWeights>(() => Gpt2Presets.Create(name, seed, dtype), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <inheritdoc />
    public Gpt2Config Config { get; }

    /// <inheritdoc />
    public string Source { get; }

    /// <summary>The dtype the preset's values are rounded to.</summary>
    public TensorDType DType { get; }

    /// <inheritdoc />
    public IReadOnlyCollection<string> TensorNames => _recipes.Keys;

    /// <summary>Whether the host copy has been made (by a <see cref="Get"/>).</summary>
    public bool HostCopyMade => _host.IsValueCreated;

    /// <summary>The recipe of tensor <paramref name="name"/> (the LM head's is the token embedding's).</summary>
    /// <exception cref="KeyNotFoundException">No such tensor.</exception>
    public GeneratedTensor Recipe(string name) => _recipes[name];

    /// <summary>Tensor <paramref name="name"/> of the host copy, which the first call generates (the whole preset, in parallel).</summary>
    public TensorView Get(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _recipes.ContainsKey(name) ? _host.Value.Get(name) : throw new KeyNotFoundException($"{Source} has no tensor '{name}'.");
    }

    /// <summary>Frees the host copy, if one was made.</summary>
    public void Dispose()
    {
        _disposed = true;
        if (_host.IsValueCreated)
        {
            _host.Value.Dispose();
        }
    }
}
