using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Flover.Actors.Cluster;

/// <summary>The worker table: membership events, registration with each worker's agent, the states agents send.</summary>
public sealed partial class ClusterEngine
{
    private void Membership()
    {
        Receive<ClusterEvent.MemberUp>(up => up.Member.HasRole(ClusterRoles.Worker), up =>
        {
            string address = up.Member.Address.ToString();
            _addresses[address] = up.Member.Address;
            _table.Up(address);
            Register(address);
        });
        Receive<ClusterEvent.MemberRemoved>(removed => Lost(removed.Member.Address.ToString()));
        Receive<ClusterEvent.UnreachableMember>(unreachable =>
        {
            // Fail over at once rather than wait for the member's removal (seconds of downing):
            // a continuation gives the same tokens, so acting on a false alarm costs only time.
            string address = unreachable.Member.Address.ToString();
            if (_table.Unreachable(address))
            {
                _log.Warning("Worker {0} is unreachable: its requests fail over.", address);
                Broadcast(new WorkerLost(address));
            }
        });
        Receive<ClusterEvent.ReachableMember>(reachable =>
        {
            string address = reachable.Member.Address.ToString();
            _table.Reachable(address);
            Register(address);
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<StatusTick>(_ =>
        {
            // Workers Up whose agent has not answered: it may start after its node joined.
            foreach (string address in _table.Unregistered)
            {
                Register(address);
            }
        });
        Receive<WorkerState>(OnWorkerState);
        Receive<Terminated>(OnTerminated);
    }

    private void Register(string address)
    {
        if (_addresses.TryGetValue(address, out Address? node))
        {
            Context.ActorSelection(new RootActorPath(node) / "user" / WorkerAgent.Name).Tell(RegisterFrontend.Instance, Self);
        }
    }

    private void OnWorkerState(WorkerState state)
    {
        // An agent on this node answers with a local path: name it by the node's cluster address.
        Address node = Sender.Path.Address.HasLocalScope ? _cluster.SelfAddress : Sender.Path.Address;
        string address = node.ToString();
        if (_table.Update(address, state))
        {
            _agents[address] = Sender;
            Context.Watch(Sender);
            _log.Info("Worker {0} registered: {1}.", address, state.Fingerprint);
        }

        ServeWaiting();
    }

    private void Lost(string address)
    {
        if (_agents.Remove(address, out IActorRef? agent))
        {
            Context.Unwatch(agent);
        }

        _addresses.Remove(address);
        if (_table.Remove(address))
        {
            _log.Warning("Worker {0} is gone (removed, or its agent stopped): its requests fail over.", address);
            Broadcast(new WorkerLost(address));
        }
    }

    private void Broadcast(WorkerLost lost)
    {
        foreach (IActorRef request in Context.GetChildren())
        {
            request.Tell(lost, Self);
        }
    }
}
