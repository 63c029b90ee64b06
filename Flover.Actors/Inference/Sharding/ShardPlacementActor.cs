using Akka.Actor;
using Akka.Event;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// Places one generation of a tensor-parallel group over nodes for its owner (a
/// <see cref="ShardSet"/>'s actor): rank 0 on the owner's own node, ranks 1.. on the shard hosts of
/// the placement's nodes, one per node in order. Round one asks each host to open its rank and gathers
/// the listeners' endpoints; a host that refuses, or does not answer within the placement's timeout,
/// is passed over for the next node. Round two sends every host the full endpoint list and collects
/// the shard actors, which the owner gets as <see cref="ShardsPlaced"/>. It then stays alive as the
/// group's handle: the hosts watch it, so stopping it (the group superseded, or the owner's node
/// gone) closes the group's ranks on every node.
/// </summary>
internal sealed class ShardPlacementActor : ReceiveActor, IWithTimers
{
    private const string RoundTimer = "round";

    private readonly ShardPlacement _placement;
    private readonly string _owner;
    private readonly long _generation;
    private readonly int _slots;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ActorPath[] _candidates;
    private readonly Dictionary<int, string> _passedOver = [];
    private readonly int[] _hostOf;
    private readonly IActorRef?[] _hosts;
    private readonly string?[] _endpoints;
    private readonly IActorRef?[] _shards;
    private int _nextCandidate = 1;
    private bool _failed;

    /// <param name="placement">The nodes, in order of preference, and the round timeout.</param>
    /// <param name="owner">The group's owner (see <see cref="OpenShard.Owner"/>).</param>
    /// <param name="generation">This placement.</param>
    /// <param name="size">Ranks in the group.</param>
    /// <param name="slots">KV slots of each rank's model.</param>
    /// <param name="suspects">Nodes that just lost a shard of the group: asked only after every other listed node, so a node that is gone costs no timeout while another has room.</param>
    public ShardPlacementActor(ShardPlacement placement, string owner, long generation, int size, int slots, IReadOnlyCollection<Address> suspects)
    {
        _placement = placement;
        _owner = owner;
        _generation = generation;
        _slots = slots;
        Address self = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress;
        // Candidate 0 is this node's own host, for rank 0 only: the decode loop samples from rank 0's
        // gathered logits, which must not cross the network.
        // (Its local path, so its answers' sender addresses match: local references carry no host.)
        _candidates = [.. placement.Nodes.Where(node => !node.Equals(self)).OrderBy(node => suspects.Contains(node)).Select(node => new RootActorPath(node) / "user" / ShardHostActor.Name).Prepend(Context.Self.Path.Root / "user" / ShardHostActor.Name)];
        _hostOf = new int[size];
        _hosts = new IActorRef?[size];
        _endpoints = new string?[size];
        _shards = new IActorRef?[size];
        Receive<ShardListening>(listening => listening.Generation == _generation && From(listening.Rank), listening =>
        {
            _hosts[listening.Rank] = Sender;
            _endpoints[listening.Rank] = $"{listening.Host}:{listening.Port}";
            if (_endpoints.All(endpoint => endpoint is not null))
            {
                JoinRound();
            }
        });
        Receive<ShardOpenFailed>(failed => failed.Generation == _generation && From(failed.Rank), failed =>
        {
            if (_endpoints.Any(endpoint => endpoint is null))
            {
                PassOver(failed.Rank, failed.Reason);
            }
            else
            {
                // Round two: the host's reason already names the rank, the node and the mesh.
                Fail(failed.Reason);
            }
        });
        Receive<ShardOpened>(opened => opened.Generation == _generation && From(opened.Rank), opened =>
        {
            _shards[opened.Rank] = Sender;
            if (_shards.All(shard => shard is not null))
            {
                Timers.Cancel(RoundTimer);
                Context.Parent.Tell(new ShardsPlaced(_generation, [.. _shards.Select(shard => shard!)]));
                Become(Placed);
            }
        });
        Receive<RoundExpired>(_ => _endpoints.Any(endpoint => endpoint is null), _ =>
        {
            for (int rank = 0; rank < _endpoints.Length; rank++)
            {
                if (_endpoints[rank] is null)
                {
                    PassOver(rank, $"no answer within {_placement.Timeout.TotalSeconds:0.#} s");
                }
            }
        });
        Receive<RoundExpired>(_ => Fail($"the mesh did not form within {_placement.Timeout.TotalSeconds:0.#} s (ranks opened: {string.Join(", ", Enumerable.Range(0, _shards.Length).Where(r => _shards[r] is not null))})"));
    }

    /// <summary>The placement round's timer.</summary>
    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        for (int rank = 0; rank < _hostOf.Length; rank++)
        {
            if (rank == 0)
            {
                Request(0, 0);
            }
            else if (!AskNext(rank))
            {
                return;
            }
        }

        Timers.StartSingleTimer(RoundTimer, RoundExpired.Instance, _placement.Timeout);
    }

    /// <summary>After <see cref="ShardsPlaced"/>: only a handle the hosts watch; late answers of passed-over hosts are dropped.</summary>
    private void Placed() => ReceiveAny(_ => { });

    /// <summary>Whether the message comes from the host rank <paramref name="rank"/> is placed on now (a passed-over host's late answer does not).</summary>
    private bool From(int rank) =>
        (uint)rank < (uint)_hostOf.Length && Sender.Path.Address.Equals(_candidates[_hostOf[rank]].Address);

    private void Request(int rank, int candidate)
    {
        _hostOf[rank] = candidate;
        _endpoints[rank] = null;
        Context.ActorSelection(_candidates[candidate]).Tell(new OpenShard(_owner, _generation, rank, _hostOf.Length, _slots), Self);
    }

    /// <summary>Asks the next unused node for <paramref name="rank"/>; false (and the placement failed) when none is left.</summary>
    private bool AskNext(int rank)
    {
        if (_nextCandidate >= _candidates.Length)
        {
            string tried = _passedOver.Count == 0 ? "none passed over" : string.Join("; ", _passedOver.Select(pair => $"{_candidates[pair.Key].Address}: {pair.Value}"));
            Fail($"{_hostOf.Length} ranks need {_hostOf.Length - 1} nodes besides this one and no other node has room ({tried})");
            return false;
        }

        Request(rank, _nextCandidate++);
        return true;
    }

    private void PassOver(int rank, string reason)
    {
        if (_failed)
        {
            return;
        }

        _passedOver[_hostOf[rank]] = reason;
        _log.Warning("Tensor-parallel rank {0} cannot be placed on {1}: {2}.", rank, _candidates[_hostOf[rank]].Address, reason);
        if (rank == 0)
        {
            Fail($"rank 0 cannot be opened on this node: {reason}");
            return;
        }

        if (AskNext(rank))
        {
            Timers.StartSingleTimer(RoundTimer, RoundExpired.Instance, _placement.Timeout);
        }
    }

    private void JoinRound()
    {
        string[] endpoints = [.. _endpoints.Select(endpoint => endpoint!)];
        for (int rank = 0; rank < endpoints.Length; rank++)
        {
            _hosts[rank]!.Tell(new JoinShardMesh(_generation, rank, endpoints), Self);
        }

        Timers.StartSingleTimer(RoundTimer, RoundExpired.Instance, _placement.Timeout);
    }

    private void Fail(string reason)
    {
        if (_failed)
        {
            return;
        }

        _failed = true;
        Timers.Cancel(RoundTimer);
        Context.Parent.Tell(new ShardPlacementFailed(_generation, reason));
        Context.Stop(Self);
    }

    /// <summary>A round's timer.</summary>
    private sealed record RoundExpired : INoSerializationVerificationNeeded
    {
        public static RoundExpired Instance { get; } = new();
    }
}
