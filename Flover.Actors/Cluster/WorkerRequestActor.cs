using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Cluster;

/// <summary>
/// One per request a frontend relays to this worker, child of the node's <see cref="WorkerAgent"/>:
/// it hands the engine the <see cref="Generate"/> as its client and passes every
/// <see cref="Token"/>, <see cref="Completed"/> and <see cref="Rejected"/> on to the frontend's
/// request actor (as their sender, so the frontend's <see cref="Cancel"/> comes here and goes on
/// to the engine's request actor). It exists for the worker's log: each line it writes about the
/// request (accepted, first token, finished, failed, refused, cancelled, frontend lost) starts
/// with <c>Request ID</c>, the attempt's correlation id, which is the frontend's request id with
/// <c>@attempt</c> appended, so one grep finds a request on the frontend and on every worker it
/// ran on. It watches the frontend's request actor and stops when that one does (its client left,
/// or the frontend gave the attempt up); the engine's request actor watches this one and then
/// cancels the request, freeing its KV slot, as it did when it watched the frontend itself.
/// </summary>
internal sealed class WorkerRequestActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Generate _request;
    private readonly IActorRef _frontend;
    private readonly IActorRef _engine;
    private readonly long _accepted = Stopwatch.GetTimestamp();
    private IActorRef? _engineRequest;
    private int _tokens;
    private bool _cancelled;

    public WorkerRequestActor(Generate request, IActorRef frontend, IActorRef engine)
    {
        _request = request;
        _frontend = frontend;
        _engine = engine;
        Receive<Token>(OnToken);
        Receive<Completed>(OnCompleted);
        Receive<Rejected>(OnRejected);
        Receive<Cancel>(OnCancel);
        Receive<Terminated>(t => t.ActorRef.Equals(_frontend), _ =>
        {
            _log.Warning("Request {0}: its frontend's request actor {1} stopped (the frontend was lost, its client left, or it moved the request) after {2} tokens here; the request is cancelled.", Id, _frontend.Path, _tokens);
            // The engine's request actor watches this actor: stopping cancels the request there.
            Context.Stop(Self);
        });
    }

    private string Id => _request.CorrelationId;

    public static Props Props(Generate request, IActorRef frontend, IActorRef engine) =>
        Akka.Actor.Props.Create(() => new WorkerRequestActor(request, frontend, engine));

    protected override void PreStart()
    {
        int history = _request.ContinueFrom?.Count ?? 0;
        _log.Info(
            history == 0 ? "Request {0}: accepted from {1}." : "Request {0}: accepted from {1}, continuing after {2} tokens generated elsewhere.",
            Id, _frontend.Path.Address, history);
        Context.Watch(_frontend);
        _engine.Tell(_request, Self);
    }

    private void OnToken(Token token)
    {
        if (_tokens++ == 0)
        {
            _log.Debug("Request {0}: first token (index {1}) after {2} ms.", Id, token.Index, Math.Round(Stopwatch.GetElapsedTime(_accepted).TotalMilliseconds, 1));
        }

        // The engine's request actor: where the frontend's Cancel goes.
        if (_engineRequest is null && _cancelled)
        {
            Sender.Tell(Cancel.Instance, Self);
        }

        _engineRequest = Sender;
        _frontend.Tell(token, Self);
    }

    private void OnCompleted(Completed completed)
    {
        long ms = (long)Stopwatch.GetElapsedTime(_accepted).TotalMilliseconds;
        if (completed.FinishReason == FinishReason.Error)
        {
            _log.Warning("Request {0}: failed after {1} tokens here in {2} ms: {3}", Id, _tokens, ms, completed.Error);
        }
        else
        {
            _log.Info("Request {0}: finished ({1}) after {2} tokens here in {3} ms.", Id, completed.FinishReason, _tokens, ms);
        }

        _frontend.Tell(completed, Self);
        Context.Stop(Self);
    }

    private void OnRejected(Rejected rejected)
    {
        _log.Warning("Request {0}: refused ({1}): {2}", Id, rejected.Code, rejected.Reason);
        _frontend.Tell(rejected, Self);
        Context.Stop(Self);
    }

    private void OnCancel(Cancel cancel)
    {
        _log.Info("Request {0}: cancelled by its frontend after {1} tokens here.", Id, _tokens);
        // A frontend sends Cancel to the sender of a token, so the engine's request actor is known;
        // a client that sends it sooner has it passed on with the first token. The engine ends the
        // request with Completed(Cancelled), relayed above.
        _cancelled = true;
        _engineRequest?.Tell(cancel, Self);
    }
}
