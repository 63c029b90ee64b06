namespace Flover.Gpu.Checkpoints;

/// <summary>
/// A checkpoint that is open while models load from it and can be closed in between, for any
/// family's weights (GPT-2's <see cref="ReopenableWeights"/>, LLaMA's <see cref="Llama.LlamaWeights"/>):
/// the engine's shards load their models from it when they start, and a shard replaced later (after
/// a crash, a timeout or a device fault) loads again. Once every shard has loaded,
/// <see cref="Release"/> closes it, so a preset's generated tensors (or a checkpoint's mapped pages)
/// do not stay in memory beside the models' own copies; the next <see cref="Use{TResult}"/> opens it
/// again. Thread-safe: shards load on their own threads at once.
/// </summary>
/// <typeparam name="T">The weights type.</typeparam>
public class ReopenableCheckpoint<T> : IEngineCheckpoint
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

        GC.SuppressFinalize(this);
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
