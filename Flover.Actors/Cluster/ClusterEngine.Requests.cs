using Akka.Actor;
using Flover.Actors.Inference;

namespace Flover.Actors.Cluster;

/// <summary>The public protocol: requests, routing them to workers, probes and queries.</summary>
public sealed partial class ClusterEngine
{
    private void Requests()
    {
        Receive<Generate>(generate =>
        {
            if (_draining)
            {
                Sender.Tell(new Rejected("the engine is draining (shutting down) and takes no new requests", RejectionCode.Draining) { CorrelationId = generate.CorrelationId });
                return;
            }

            // Each request's state (its history, its worker) lives in its own actor; this one only routes.
            Context.Watch(Context.ActorOf(ClusterRequestActor.Props(generate, Sender, _model, _settings)));
        });
        Receive<FindWorker>(find =>
        {
            if (find.RefusedBy is { } refusing)
            {
                // Its next state will say it does not serve; until then no other request goes there either.
                _table.Refused(refusing);
            }

            // First come, first served among the requests that wait for the same kind of worker.
            _waiting.Add((Sender, find.Need));
            ServeWaiting();
        });
        Receive<ProbeEngine>(_ => Sender.Tell(Status()));
        Receive<ListWorkers>(_ => Sender.Tell(new WorkerList(_table.Loads)));
        Receive<StartDraining>(_ =>
        {
            _draining = true;
            Sender.Tell(EngineDraining.Instance);
        });
        Receive<DescribeEngine>(describe => ToAnyWorker(describe, string.Empty));
        Receive<Tokenize>(tokenize => ToAnyWorker(tokenize, tokenize.CorrelationId));
        Receive<Detokenize>(detokenize => ToAnyWorker(detokenize, detokenize.CorrelationId));
    }

    /// <summary>Routes every waiting request a worker now fits, in arrival order.</summary>
    private void ServeWaiting()
    {
        for (int i = 0; i < _waiting.Count;)
        {
            (IActorRef request, RouteNeed need) = _waiting[i];
            if (_table.Route(need) is { } worker && _agents.TryGetValue(worker.Address, out IActorRef? agent))
            {
                _waiting.RemoveAt(i);
                request.Tell(new WorkerFound(agent, worker), Self);
            }
            else
            {
                i++;
            }
        }
    }

    /// <summary>A question any worker of the model answers (its engine replies to the sender directly).</summary>
    private void ToAnyWorker(object message, string correlationId)
    {
        if (WorkerRouter.ForNewRequest(_model, _table.Loads) is { } worker && _agents.TryGetValue(worker.Address, out IActorRef? agent))
        {
            agent.Forward(message);
            return;
        }

        Sender.Tell(new Rejected($"no worker serving '{_model}' is up", RejectionCode.EngineUnavailable) { CorrelationId = correlationId });
    }

    /// <summary>The cluster's engine status: the serving workers of the model together, requests still looking for a worker counted as waiting.</summary>
    private EngineStatus Status()
    {
        List<WorkerLoad> serving = [.. _table.Loads.Where(w => w.Serving && w.Fingerprint.Model == _model)];
        int running = serving.Sum(w => w.Running);
        int slots = serving.Sum(w => w.KvSlots);
        string? stalled = serving.Count == 0 ? $"no worker serving '{_model}' is up" : null;
        return new EngineStatus(running, serving.Sum(w => w.Waiting) + _waiting.Count, running, Math.Max(0, slots - running), Stalled: stalled);
    }
}
