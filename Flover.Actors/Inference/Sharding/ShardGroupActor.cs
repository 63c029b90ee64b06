using Akka.Actor;

namespace Flover.Actors.Inference.Sharding;

/// <summary>Asks the group supervisor to start the shard of <paramref name="Rank"/> from <paramref name="Props"/>; answered with its <see cref="IActorRef"/>.</summary>
internal sealed record StartShard(int Rank, Props Props, string Name);

/// <summary>
/// Parent and watcher of a tensor-parallel group's <see cref="ShardActor"/>s. A shard that fails is
/// stopped, never restarted in place (a restarted shard would hold an empty KV slice while the plan
/// assumes a full one); its death is reported to the group's owner, which aborts the collectives,
/// fails the step and rebuilds the shard, after which the decode loop re-prefills its sequences.
/// </summary>
internal sealed class ShardGroupActor : ReceiveActor
{
    private readonly Dictionary<IActorRef, int> _rankOf = [];

    public ShardGroupActor(Action<int> shardStopped)
    {
        Receive<StartShard>(start =>
        {
            IActorRef shard = Context.ActorOf(start.Props, start.Name);
            Context.Watch(shard);
            _rankOf[shard] = start.Rank;
            Sender.Tell(shard);
        });
        Receive<Terminated>(terminated =>
        {
            if (_rankOf.Remove(terminated.ActorRef, out int rank))
            {
                shardStopped(rank);
            }
        });
    }

    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;
}
