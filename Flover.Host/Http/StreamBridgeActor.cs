using System.Threading.Channels;
using Akka.Actor;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Host.Http;

/// <summary>
/// The engine's client for one HTTP request: sends <see cref="Generate"/> to the engine and
/// writes what comes back (<see cref="Token"/>s, then <see cref="Completed"/> or
/// <see cref="Rejected"/>) into a channel the request's handler reads. The handler cannot
/// receive actor messages itself, hence this actor; it lives exactly as long as the request.
/// </summary>
internal sealed class StreamBridgeActor : ReceiveActor
{
    private readonly IActorRef _engine;
    private readonly Generate _request;
    private readonly ChannelWriter<object> _events;
    private readonly RequestTiming _timing;
    private IActorRef? _requestActor;
    private bool _abandoned;

    public StreamBridgeActor(IActorRef engine, Generate request, ChannelWriter<object> events, RequestTiming timing)
    {
        _engine = engine;
        _request = request;
        _events = events;
        _timing = timing;
        Receive<Token>(token =>
        {
            WatchRequestActor();
            _timing.OnToken();
            if (!_abandoned)
            {
                _events.TryWrite(token);
            }
        });
        Receive<Completed>(completed =>
        {
            _timing.OnCompleted(completed.FinishReason);
            Finish(completed);
        });
        Receive<Rejected>(Finish);
        Receive<Abandon>(_ => OnAbandon());
        Receive<Shutdown>(_ => OnShutdown());
        Receive<Terminated>(t => t.ActorRef.Equals(_requestActor) || t.ActorRef.Equals(_engine), t =>
            // The request's actor or the engine stopped without completing (a bug or a shutdown):
            // the handler must not wait for ever.
            Finish(new Completed(FinishReason.Error, new Usage(_request.PromptTokenIds.Count, 0), string.Empty, $"the engine stopped serving this request ({t.ActorRef.Path.Name})")));
    }

    protected override void PreStart()
    {
        Context.Watch(_engine);
        _engine.Tell(_request, Self);
    }

    protected override void PostStop() => _events.TryComplete();

    private void WatchRequestActor()
    {
        if (_requestActor is null && Sender is not null && !Sender.Equals(ActorRefs.Nobody) && !Sender.Equals(Context.System.DeadLetters))
        {
            _requestActor = Sender;
            Context.Watch(_requestActor);
        }
    }

    private void Finish(object message)
    {
        if (!_abandoned)
        {
            _events.TryWrite(message);
        }

        _events.TryComplete();
        Context.Stop(Self);
    }

    private void OnAbandon()
    {
        _abandoned = true;
        _events.TryComplete();
        if (_requestActor is null)
        {
            // No token yet, so the request's actor is unknown: stopping is how it learns (it
            // watches its client and cancels in the loop when the client stops).
            Context.Stop(Self);
            return;
        }

        // Stay until Completed(Cancelled) arrives, so it is not a dead letter.
        _requestActor.Tell(Cancel.Instance, Self);
    }

    private void OnShutdown()
    {
        if (_requestActor is null)
        {
            // Still waiting for admission: stopping cancels it (the request's actor watches us),
            // and the handler, seeing the stream end without an answer, replies 503.
            Context.Stop(Self);
            return;
        }

        // Keep forwarding: Completed(Cancelled) reaches the handler, which tells the client why.
        _requestActor.Tell(Cancel.Instance, Self);
    }

    /// <summary>The server's drain time is over: cancel the request, but keep its client informed.</summary>
    internal sealed record Shutdown
    {
        public static Shutdown Instance { get; } = new();
    }

    /// <summary>The HTTP client went away (or stopped reading): cancel the request.</summary>
    internal sealed record Abandon
    {
        public static Abandon Instance { get; } = new();
    }
}
