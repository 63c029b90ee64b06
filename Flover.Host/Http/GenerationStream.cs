using System.Threading.Channels;
using Akka.Actor;

namespace Flover.Host.Http;

/// <summary>
/// One admitted request as the HTTP handler sees it: the engine's messages in order
/// (<c>Token</c>… then one <c>Completed</c> or <c>Rejected</c>) and a way to cancel.
/// Disposing an unfinished stream cancels the request; disposing ends it for the admission
/// point's count of requests in flight (what a drain waits for).
/// </summary>
internal sealed class GenerationStream : IDisposable
{
    private readonly IActorRef _bridge;
    private readonly Action<GenerationStream>? _released;
    // Read by the RequestAborted callback's thread; a stale false only costs a message to a stopped actor.
    private volatile bool _finished;
    private int _disposed;
    // Set by the drain's thread, read by the handler's after the stream ends.
    private volatile bool _cancelledByShutdown;

    public GenerationStream(ChannelReader<object> events, IActorRef bridge, RequestTiming? timing = null, Action<GenerationStream>? released = null)
    {
        Events = events;
        _bridge = bridge;
        Timing = timing ?? new RequestTiming();
        _released = released;
    }

    /// <summary>The engine's messages; completes after the last one.</summary>
    public ChannelReader<object> Events { get; }

    /// <summary>When the engine answered (for the latency metrics).</summary>
    public RequestTiming Timing { get; }

    /// <summary>True once a drain cancelled the request: its client is still there and gets a 503, not silence.</summary>
    public bool CancelledByShutdown => _cancelledByShutdown;

    /// <summary>Marks the request finished (its last message was read), so disposing does not cancel it.</summary>
    public void MarkFinished() => _finished = true;

    /// <summary>Cancels the request in the engine unless it has finished (idempotent).</summary>
    public void Cancel()
    {
        if (!_finished)
        {
            _bridge.Tell(StreamBridgeActor.Abandon.Instance, ActorRefs.NoSender);
        }
    }

    /// <summary>The server is shutting down and the drain time is over: cancel, and tell the client why.</summary>
    public void CancelForShutdown()
    {
        _cancelledByShutdown = true;
        if (!_finished)
        {
            // Not Abandon: the handler still reads, to answer Completed(Cancelled) with a 503.
            _bridge.Tell(StreamBridgeActor.Shutdown.Instance, ActorRefs.NoSender);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Cancel();
            _released?.Invoke(this);
        }
    }
}
