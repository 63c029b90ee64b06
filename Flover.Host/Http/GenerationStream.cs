using System.Threading.Channels;
using Flover.Actors.Runtime;

namespace Flover.Host.Http;

/// <summary>
/// One admitted request as the HTTP handler sees it: the engine's messages in order
/// (<c>Token</c>… then one <c>Completed</c> or <c>Rejected</c>) and a way to cancel.
/// Disposing an unfinished stream cancels the request.
/// </summary>
internal sealed class GenerationStream : IDisposable
{
    private readonly IActorRef _bridge;
    // Read by the RequestAborted callback's thread; a stale false only costs a message to a stopped actor.
    private volatile bool _finished;

    public GenerationStream(ChannelReader<object> events, IActorRef bridge)
    {
        Events = events;
        _bridge = bridge;
    }

    /// <summary>The engine's messages; completes after the last one.</summary>
    public ChannelReader<object> Events { get; }

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

    public void Dispose() => Cancel();
}
