namespace Flover.Gpu.Checkpoints;

/// <summary>
/// Tensors by their checkpoint names over memory something else owns (mapped safetensors files, a
/// block of generated weights): lookups that name the source when a tensor is missing, and one
/// disposal that releases the owners and makes every later lookup an <see cref="ObjectDisposedException"/>
/// naming the weights type that holds this.
/// </summary>
internal sealed class NamedTensors : IDisposable
{
    private readonly Dictionary<string, TensorView> _tensors;
    private readonly IReadOnlyList<IDisposable> _owners;
    private readonly Type _holder;
    private bool _disposed;

    /// <param name="holder">The weights type lookups are made through, for the disposed error.</param>
    /// <param name="source">Where the weights come from, for the missing-tensor error.</param>
    /// <param name="tensors">The views, keyed by name.</param>
    /// <param name="owners">What the views point into, disposed with this.</param>
    public NamedTensors(Type holder, string source, Dictionary<string, TensorView> tensors, IReadOnlyList<IDisposable> owners)
    {
        _holder = holder;
        Source = source;
        _tensors = tensors;
        _owners = owners;
    }

    public string Source { get; }

    public IReadOnlyCollection<string> Names => _tensors.Keys;

    /// <exception cref="KeyNotFoundException">No such tensor: the message names the source and the tensor.</exception>
    public TensorView Get(string name) =>
        Find(name) ?? throw new KeyNotFoundException($"{Source} has no tensor '{name}'.");

    public TensorView? Find(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, _holder);
        return _tensors.GetValueOrDefault(name);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (IDisposable owner in _owners)
        {
            owner.Dispose();
        }
    }
}
