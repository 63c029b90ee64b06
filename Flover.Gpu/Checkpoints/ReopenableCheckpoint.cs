namespace Flover.Gpu.Checkpoints;

/// <summary>
/// <see cref="ReopenableWeights"/>' behaviour for any family's weights (LLaMA's
/// <see cref="Llama.LlamaWeights"/>): open while models load from it, closed by <see cref="Release"/>
/// once no load is running, reopened by the next <see cref="Use{TResult}"/>. Thread-safe.
/// </summary>
/// <typeparam name="T">The weights type.</typeparam>
public sealed class ReopenableCheckpoint<T> : IEngineCheckpoint
    where T : class, IDisposable
{
    private readonly Func<T> _open;
    private readonly Lock _lock = new();
    private T? _weights;
    private int _users;
    private bool _held = true;
    private bool _disposed;

    /// <summary>Holds <paramref name="weights"/>, already open, and reopens them with <paramref name="open"/> after a release.</summary>
    public ReopenableCheckpoint(T weights, string source, Func<T> open)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(open);
        _weights = weights;
        _open = open;
        Source = source;
    }

    /// <inheritdoc />
    public string Source { get; }

    /// <summary>Runs <paramref name="load"/> on the open checkpoint, opening it first if it was released.</summary>
    /// <exception cref="ObjectDisposedException">The checkpoint was disposed.</exception>
    public TResult Use<TResult>(Func<T, TResult> load)
    {
        ArgumentNullException.ThrowIfNull(load);
        T weights;
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

    /// <inheritdoc />
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
