namespace Flover.Gpu.Checkpoints;

/// <summary>
/// A checkpoint that is open while models load from it and can be closed in between: the engine's
/// shards load their models from it when they start, and a shard replaced later (after a crash or
/// a timeout) loads again. Once every shard has loaded, <see cref="Release"/> closes it, so a
/// preset's generated tensors (or a checkpoint's mapped pages) do not stay in memory beside the
/// models' own copies; the next <see cref="Use{T}"/> opens it again. Thread-safe: shards load on
/// their own threads at once.
/// </summary>
public sealed class ReopenableWeights : IEngineCheckpoint
{
    private readonly Func<IModelWeights> _open;
    private readonly Lock _lock = new();
    private IModelWeights? _weights;
    private int _users;
    private bool _held = true;
    private bool _disposed;

    /// <summary>Holds <paramref name="weights"/>, already open, and reopens them with <paramref name="open"/> after a release.</summary>
    public ReopenableWeights(IModelWeights weights, Func<IModelWeights> open)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(open);
        _weights = weights;
        _open = open;
        Config = weights.Config;
        Source = weights.Source;
    }

    /// <summary>The model's hyper-parameters (known without opening).</summary>
    public Models.Gpt2Config Config { get; }

    /// <summary>Where the weights come from.</summary>
    public string Source { get; }

    /// <summary>True while the checkpoint is open (for tests and diagnostics).</summary>
    public bool IsOpen
    {
        get
        {
            lock (_lock)
            {
                return _weights is not null;
            }
        }
    }

    /// <summary>Runs <paramref name="load"/> on the open checkpoint, opening it first if it was released.</summary>
    /// <exception cref="ObjectDisposedException">The weights were disposed.</exception>
    public T Use<T>(Func<IModelWeights, T> load)
    {
        ArgumentNullException.ThrowIfNull(load);
        IModelWeights weights;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _weights ??= _open();
            _users++;
            weights = _weights;
        }

        try
        {
            return load(weights);
        }
        finally
        {
            lock (_lock)
            {
                _users--;
                CloseIfUnused();
            }
        }
    }

    /// <summary>Closes the checkpoint as soon as no model is loading from it; later uses reopen it.</summary>
    public void Release()
    {
        lock (_lock)
        {
            _held = false;
            CloseIfUnused();
        }
    }

    /// <summary>Closes the checkpoint for good.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _held = false;
            CloseIfUnused();
        }
    }

    private void CloseIfUnused()
    {
        if (!_held && _users == 0 && _weights is not null)
        {
            _weights.Dispose();
            _weights = null;
        }
    }
}
