using Akka.Actor;

namespace Flover.Actors.Cluster;

// Messages inside a frontend's ClusterEngine (between it and its request actors) and the timers of
// the cluster actors: they never leave the node.

/// <summary>Request actor → ClusterEngine: route me (now, or as soon as a worker fits, until my wait ends); <paramref name="RefusedBy"/> is a worker that just refused it as draining or unavailable.</summary>
internal sealed record FindWorker(RouteNeed Need, string? RefusedBy = null) : INoSerializationVerificationNeeded;

/// <summary>ClusterEngine → request actor: run on <paramref name="Worker"/>, whose agent is <paramref name="Agent"/>.</summary>
internal sealed record WorkerFound(IActorRef Agent, WorkerLoad Worker) : INoSerializationVerificationNeeded;

/// <summary>ClusterEngine → its request actors: the worker at <paramref name="Address"/> is gone or unreachable.</summary>
internal sealed record WorkerLost(string Address) : INoSerializationVerificationNeeded;

/// <summary>Timer: a worker agent samples its engine's load; a frontend registers with workers that have not answered.</summary>
internal sealed record StatusTick : INoSerializationVerificationNeeded
{
    public static StatusTick Instance { get; } = new();
}

/// <summary>
/// CoordinatedShutdown → the node's WorkerAgent: the node is leaving; take nothing new and answer
/// <c>Done</c> once the engine holds no request (the phase's timeout bounds the wait).
/// </summary>
internal sealed record DrainWorker : INoSerializationVerificationNeeded
{
    public static DrainWorker Instance { get; } = new();
}

/// <summary>Timer: a request found no worker within <c>flover.cluster.worker-wait</c>.</summary>
internal sealed record WorkerWaitExpired : INoSerializationVerificationNeeded
{
    public static WorkerWaitExpired Instance { get; } = new();
}
