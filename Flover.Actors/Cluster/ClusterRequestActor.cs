using Akka.Actor;
using Akka.Event;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Cluster;

/// <summary>
/// One per request on a frontend, child of the <see cref="ClusterEngine"/>: asks its parent for a
/// worker, sends the worker's agent the request, relays Token / Completed / Rejected to the client
/// (as the sender of each, so the client's <see cref="Cancel"/> comes here), and when the worker is
/// lost asks for another with the same fingerprint and continues there from the token history
/// (<see cref="RelayedRequest"/> decides). It waits at most <c>flover.cluster.worker-wait</c> for a
/// worker each time it needs one. The worker's request actor watches this actor: when it stops
/// (its client stopped, or it gave up), the worker cancels the request and frees its KV slot.
/// </summary>
internal sealed class ClusterRequestActor : ReceiveActor, IWithTimers
{
    private readonly RelayedRequest _relay;
    private readonly IActorRef _client;
    private readonly TimeSpan _workerWait;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef? _workerRequest;
    private bool _cancelled;

    public ClusterRequestActor(Generate request, IActorRef client, string model, Configuration.ClusterRoutingSettings settings)
    {
        _relay = new RelayedRequest(request, model, settings.MaxFailovers);
        _client = client;
        _workerWait = settings.WorkerWait;
        Receive<WorkerFound>(OnWorkerFound);
        Receive<Token>(token => Act(_relay.OnToken(token), Sender));
        Receive<Completed>(completed => Act(_relay.OnCompleted(completed), Sender));
        Receive<Rejected>(rejected => Act(_relay.OnRejected(rejected), Sender));
        Receive<WorkerLost>(lost => Act(_relay.OnWorkerLost(lost.Address), ActorRefs.Nobody));
        Receive<WorkerWaitExpired>(_ => GiveUp());
        Receive<Cancel>(_ => OnCancel());
        Receive<Terminated>(t => t.ActorRef.Equals(_client), _ => Context.Stop(Self));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Generate request, IActorRef client, string model, Configuration.ClusterRoutingSettings settings) =>
        Akka.Actor.Props.Create(() => new ClusterRequestActor(request, client, model, settings));

    protected override void PreStart()
    {
        Context.Watch(_client);
        Seek();
    }

    private void Seek()
    {
        _workerRequest = null;
        Context.Parent.Tell(new FindWorker(_relay.Need, _relay.RefusedBy), Self);
        Timers.StartSingleTimer("worker-wait", WorkerWaitExpired.Instance, _workerWait);
    }

    private void OnWorkerFound(WorkerFound found)
    {
        if (_relay.Worker is not null)
        {
            return;
        }

        Timers.Cancel("worker-wait");
        found.Agent.Tell(_relay.Start(found.Worker), Self);
        if (_relay.Attempts > 1)
        {
            _log.Info("Request {0}: continuing on worker {1} from token {2} (attempt {3}).", _relay.Request.CorrelationId, found.Worker.Address, _relay.History.Count, _relay.Attempts);
        }
    }

    private void Act(RelayOutcome outcome, IActorRef from)
    {
        switch (outcome.Action)
        {
            case RelayAction.Relay:
                _client.Tell(outcome.Message!, Self);
                if (outcome.Message is Token)
                {
                    // The worker's request actor: where a Cancel goes from now on.
                    _workerRequest = from;
                    if (_cancelled)
                    {
                        from.Tell(Cancel.Instance, Self);
                    }
                }
                else
                {
                    Context.Stop(Self);
                }

                break;
            case RelayAction.FailOver:
                _log.Warning("Request {0}: its worker was lost or failed it after {1} tokens (attempt {2}); looking for a worker with the same fingerprint.", _relay.Request.CorrelationId, _relay.History.Count, _relay.Attempts);
                // A worker that is only unreachable may still be computing: tell it to stop (its
                // tokens would be dropped anyway, as they carry the abandoned attempt's id).
                _workerRequest?.Tell(Cancel.Instance, Self);
                if (_cancelled)
                {
                    End(_relay.Ended(FinishReason.Cancelled));
                }
                else
                {
                    Seek();
                }

                break;
        }
    }

    private void OnCancel()
    {
        _cancelled = true;
        if (_workerRequest is not null && _relay.Worker is not null)
        {
            // The worker ends it with Completed(Cancelled) once its slot is free.
            _workerRequest.Tell(Cancel.Instance, Self);
            return;
        }

        if (_relay.Worker is null)
        {
            // Waiting for a worker: nothing runs anywhere.
            End(_relay.Ended(FinishReason.Cancelled));
        }

        // Else the attempt has produced no token yet, so its request actor is unknown: the cancel
        // is sent with the first token (above); a Completed or Rejected may also come first.
    }

    private void GiveUp()
    {
        if (_relay.Worker is null)
        {
            _log.Warning("Request {0}: no worker could take it within {1}; it ends with an error after {2} tokens.", _relay.Request.CorrelationId, _workerWait, _relay.History.Count);
            End(_relay.GiveUp(_relay.History.Count == 0
                ? $"no worker serving the model joined within {_workerWait.TotalSeconds:0.###} s (flover.cluster.worker-wait)"
                : $"the request's worker was lost and no worker with the same fingerprint was available within {_workerWait.TotalSeconds:0.###} s (flover.cluster.worker-wait)"));
        }
    }

    private void End(object last)
    {
        _client.Tell(last, Self);
        Context.Stop(Self);
    }
}
