namespace Flover.Host.Cli;

/// <summary>
/// The garbage collections between <see cref="Open"/> and <see cref="Close"/>, and how long they paused
/// the process's threads: a timed run reports them so a long step can be told apart from a GC pause.
/// </summary>
internal readonly struct GcWindow
{
    private readonly int _collections;
    private readonly TimeSpan _paused;

    private GcWindow(int collections, TimeSpan paused)
    {
        _collections = collections;
        _paused = paused;
    }

    /// <summary>Starts counting from now.</summary>
    public static GcWindow Open() => new(GC.CollectionCount(0), GC.GetTotalPauseDuration());

    /// <summary>Collections of any generation since <see cref="Open"/> (each one collects generation 0) and the milliseconds they paused.</summary>
    public (int Collections, double PausedMilliseconds) Close() =>
        (GC.CollectionCount(0) - _collections, (GC.GetTotalPauseDuration() - _paused).TotalMilliseconds);
}
