using System.Threading.Channels;
using Flover.Actors.Inference;

namespace Flover.Host.Http.Events;

/// <summary>
/// Fans the decode loop's <see cref="IterationSummary"/> events out to the viewers of
/// <c>GET /v1/engine/events</c>. Each summary is rendered to JSON once; every viewer has a small
/// bounded queue that drops its oldest event when full, so a slow or stuck viewer loses events
/// and never delays the publisher (the actor forwarding from the event stream, and behind it the
/// decode loop). At most <see cref="MaxViewers"/> viewers at once; one more is refused.
/// </summary>
internal sealed class EngineEventHub
{
    /// <summary>Events a viewer may have unread before the oldest is dropped (about two seconds at the default 250 ms interval).</summary>
    public const int ViewerQueue = 8;

    private readonly Lock _viewersLock = new();
    private readonly List<EventViewer> _viewers = [];

    private readonly RecentRequests _recent;

    /// <param name="maxViewers">Viewers served at once (<c>flover.http.max-event-viewers</c>).</param>
    /// <param name="recent">The latest finished requests, sent with every event (none when null).</param>
    public EngineEventHub(int maxViewers, RecentRequests? recent = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxViewers);
        MaxViewers = maxViewers;
        _recent = recent ?? new RecentRequests();
    }

    /// <summary>Viewers served at once.</summary>
    public int MaxViewers { get; }

    /// <summary>Viewers connected now.</summary>
    public int ViewerCount
    {
        get
        {
            lock (_viewersLock)
            {
                return _viewers.Count;
            }
        }
    }

    /// <summary>Adds a viewer, or returns false when <see cref="MaxViewers"/> are already connected.</summary>
    public bool TryAdd(out EventViewer viewer)
    {
        lock (_viewersLock)
        {
            if (_viewers.Count >= MaxViewers)
            {
                viewer = null!;
                return false;
            }

            viewer = new EventViewer(this);
            _viewers.Add(viewer);
            return true;
        }
    }

    /// <summary>Renders <paramref name="summary"/> once and offers it to every viewer; never waits for one.</summary>
    public void Publish(IterationSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        EventViewer[] viewers;
        lock (_viewersLock)
        {
            if (_viewers.Count == 0)
            {
                return;
            }

            viewers = [.. _viewers];
        }

        byte[] json = EngineEventJson.Render(summary, _recent.Snapshot());
        foreach (EventViewer viewer in viewers)
        {
            viewer.Offer(json);
        }
    }

    internal void Remove(EventViewer viewer)
    {
        lock (_viewersLock)
        {
            _viewers.Remove(viewer);
        }
    }
}

/// <summary>One connected viewer: its bounded queue of rendered events. Dispose to disconnect.</summary>
internal sealed class EventViewer : IDisposable
{
    private readonly EngineEventHub _hub;
    private readonly Channel<byte[]> _events = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(EngineEventHub.ViewerQueue)
    {
        // The publisher must never wait on a viewer: a full queue loses its oldest event instead.
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });

    private long _offered;

    internal EventViewer(EngineEventHub hub)
    {
        _hub = hub;
    }

    /// <summary>The events, oldest first, as JSON.</summary>
    public ChannelReader<byte[]> Events => _events.Reader;

    /// <summary>Events offered to this viewer since it connected (read, queued or dropped).</summary>
    public long Offered => Interlocked.Read(ref _offered);

    /// <inheritdoc />
    public void Dispose()
    {
        _hub.Remove(this);
        _events.Writer.TryComplete();
    }

    internal void Offer(byte[] json)
    {
        Interlocked.Increment(ref _offered);
        // Always succeeds on a bounded DropOldest channel, unless the viewer has gone (completed).
        _events.Writer.TryWrite(json);
    }
}
