using Akka.Actor;
using Flover.Gpu.Collectives;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// The decode loop's shard actors, by rank, and the tensor-parallel group they meet in: starts
/// them (as the loop's children, watched), tracks which have loaded, and replaces the ones that
/// stopped or fell silent. A plain class used only on the loop's thread.
/// </summary>
/// <remarks>
/// Every failed step gets the survivors a fresh group (<see cref="Regroup"/>) instead of resetting
/// the old one: a shard left behind inside a kernel may still enter a collective of the old group
/// when it returns, and must meet nobody there. The old group stays aborted, so it throws at once.
/// </remarks>
internal sealed class ShardSet
{
    private readonly ShardedModel _spec;
    private readonly int _slots;
    private readonly IActorRef?[] _shards;
    private readonly bool[] _ready;
    private readonly int[] _startFailures;
    private readonly bool[] _rebuilding;
    private readonly Dictionary<IActorRef, int> _rankOf = [];
    private ICommunicatorGroup? _group;
    private int _generation;
    private readonly HashSet<Address> _suspects = [];
    private IActorRef? _placer;
    private long _placement;

    public ShardSet(ShardedModel spec, int slots)
    {
        _spec = spec;
        _slots = slots;
        // A scheduler that runs model instances of its own (ModelSlots 0) needs no shards.
        int count = slots > 0 ? spec.ShardCount : 0;
        _shards = new IActorRef?[count];
        _ready = new bool[count];
        _startFailures = new int[count];
        _rebuilding = new bool[count];
    }

    /// <summary>What the shards are.</summary>
    public ShardedModel Model => _spec;

    /// <summary>Shards in the set.</summary>
    public int Count => _shards.Length;

    /// <summary>True when every shard has loaded its model and takes steps.</summary>
    public bool AllReady => _ready.All(ready => ready);

    /// <summary>Seconds the current group's ranks have spent in collectives (0 for one shard).</summary>
    public double CollectiveSeconds => _group?.CollectiveSeconds ?? 0;

    /// <summary>Whether the ranks run on several nodes (<see cref="ShardedModel.Placement"/>), opened by their shard hosts.</summary>
    public bool Remote => _spec.Placement is not null;

    /// <summary>Shards started again after they stopped or fell silent.</summary>
    public int Replacements { get; private set; }

    /// <summary>The shard of <paramref name="rank"/>.</summary>
    public IActorRef this[int rank] => _shards[rank]!;

    /// <summary>Starts every rank in a fresh group.</summary>
    public void StartAll(IActorContext context)
    {
        if (Remote)
        {
            if (Count > 0)
            {
                Place(context);
            }

            return;
        }

        _group = Count > 1 ? ICommunicatorGroup.Create(_spec.Device, Count) : null;
        for (int rank = 0; rank < Count; rank++)
        {
            Start(context, rank);
        }
    }

    /// <summary>The rank of a current shard, or null for one no longer in the set (a replaced shard's late message).</summary>
    public int? RankOf(IActorRef shard) => _rankOf.TryGetValue(shard, out int rank) ? rank : null;

    /// <summary>Records that <paramref name="shard"/> has loaded; false for a shard no longer in the set.</summary>
    public bool MarkReady(IActorRef shard)
    {
        if (RankOf(shard) is not int rank)
        {
            return false;
        }

        _ready[rank] = true;
        _startFailures[rank] = 0;
        _rebuilding[rank] = false;
        return true;
    }

    /// <summary>Whether the shard of <paramref name="rank"/> is the rebuild of one whose device faulted and has not loaded yet.</summary>
    public bool Rebuilding(int rank) => _rebuilding[rank];

    /// <summary>Whether the shard of <paramref name="rank"/> had loaded before it stopped (else it failed to start), counting start failures.</summary>
    public int StartFailures(int rank) => _startFailures[rank];

    /// <summary>Wakes every shard waiting in a collective of the current group (they fail their step).</summary>
    public void Abort() => _group?.Abort();

    /// <summary>
    /// After a failed step: the live shards move to a fresh group (a message queued behind the step
    /// they may still be finishing) and those of <paramref name="replace"/> are replaced, each
    /// announced as <see cref="ShardReplaced"/> with <paramref name="reason"/>. Those also in
    /// <paramref name="rebuild"/> replace a shard whose device faulted: until they have loaded,
    /// <see cref="Rebuilding"/> says so.
    /// </summary>
    public void Regroup(IActorContext context, IReadOnlyCollection<int> replace, string reason, IReadOnlyCollection<int>? rebuild = null)
    {
        if (Remote)
        {
            Rebuild(context, reason);
            return;
        }

        if (_group is not null)
        {
            _group.Abort();
            _group = ICommunicatorGroup.Create(_spec.Device, Count);
            for (int rank = 0; rank < Count; rank++)
            {
                if (!replace.Contains(rank))
                {
                    _shards[rank]!.Tell(new UseGroup(_group));
                }
            }
        }

        foreach (int rank in replace)
        {
            Replace(context, rank);
            _rebuilding[rank] = rebuild?.Contains(rank) == true;
            context.System.EventStream.Publish(new ShardReplaced(rank, reason));
        }
    }

    private void Replace(IActorContext context, int rank)
    {
        if (_shards[rank] is { } old)
        {
            // Stopped now if it is idle; a shard stuck inside a kernel stops (and frees its model)
            // only when the kernel returns, and its old group then fails its collectives at once.
            _rankOf.Remove(old);
            context.Unwatch(old);
            context.Stop(old);
            if (!_ready[rank])
            {
                _startFailures[rank]++;
            }
        }

        Replacements++;
        Start(context, rank);
    }

    private void Start(IActorContext context, int rank)
    {
        int generation = ++_generation;
        ICommunicatorGroup? group = _group;
        Props props = _spec.ShardProps?.Invoke(rank, group, _slots)
            ?? Props.Create(() => new ShardActor(_spec, _slots, group, rank)).WithDispatcher(_spec.Dispatcher);
        IActorRef shard = context.ActorOf(props, $"shard-{rank}-{generation}");
        context.Watch(shard);
        _shards[rank] = shard;
        _ready[rank] = false;
        _rankOf[shard] = rank;
        // Answered once the shard's constructor has loaded its model; a load that throws stops it (Terminated).
        shard.Tell(ShardReadyQuery.Instance, context.Self);
    }

    /// <summary>
    /// The ranks of <paramref name="placed"/> (across nodes) are open: watched from now on and asked
    /// whether they have loaded, as a local start does. An older placement's late answer is dropped
    /// (its placement actor is stopped, so its hosts close those ranks).
    /// </summary>
    public void Placed(IActorContext context, ShardsPlaced placed)
    {
        if (placed.Generation != _placement)
        {
            return;
        }

        _suspects.Clear();

        for (int rank = 0; rank < Count; rank++)
        {
            IActorRef shard = placed.Shards[rank];
            _shards[rank] = shard;
            _ready[rank] = false;
            _rankOf[shard] = rank;
            context.Watch(shard);
            shard.Tell(ShardReadyQuery.Instance, context.Self);
        }
    }

    /// <summary>Why the current placement failed (null for an older placement's message).</summary>
    public string? PlacementFailure(ShardPlacementFailed failed) => failed.Generation == _placement ? failed.Reason : null;

    /// <summary>
    /// The shard of <paramref name="rank"/> stopped, or its connection dropped under a collective:
    /// across nodes its node may be gone, so the next placement asks it last (until a placement
    /// succeeds). Nothing to do in one process.
    /// </summary>
    public void Lost(int rank)
    {
        if (Remote && _shards[rank] is { } shard)
        {
            _suspects.Add(shard.Path.Address);
        }
    }

    /// <summary>After a placement that failed (its placement actor has stopped): tries again with every listed node.</summary>
    public void PlaceAgain(IActorContext context) => Place(context);

    /// <summary>Places every rank across nodes in a new generation (the hosts supersede the older one's ranks).</summary>
    private void Place(IActorContext context)
    {
        long generation = ++_placement;
        ShardPlacement placement = _spec.Placement!;
        // The owner's full path with its uid: the same for each generation of this loop, and never
        // the same as another loop's (on another node, or a restarted one).
        string owner = Akka.Serialization.Serialization.SerializedActorPath(context.Self);
        int size = Count;
        int slots = _slots;
        Address[] suspects = [.. _suspects];
        _placer = context.ActorOf(Props.Create(() => new ShardPlacementActor(placement, owner, generation, size, slots, suspects)), $"placement-{generation}");
    }

    /// <summary>
    /// Across nodes a failed rank takes the whole group with it: a TCP mesh cannot take one new rank
    /// in, and its survivors' KV is re-prefilled anyway. Every rank is dropped (unwatched, so a late
    /// Terminated of a lost node means nothing) and the group is placed again: stopping the old
    /// placement closes its ranks on their hosts, and the new one passes over nodes that are gone.
    /// </summary>
    private void Rebuild(IActorContext context, string reason)
    {
        for (int rank = 0; rank < Count; rank++)
        {
            if (_shards[rank] is { } old)
            {
                _rankOf.Remove(old);
                context.Unwatch(old);
                _shards[rank] = null;
            }

            if (!_ready[rank])
            {
                _startFailures[rank]++;
            }

            _ready[rank] = false;
        }

        if (_placer is not null)
        {
            context.Stop(_placer);
        }

        // Every rank is opened again (the lost ones and their survivors alike), and each says so.
        for (int rank = 0; rank < Count; rank++)
        {
            Replacements++;
            context.System.EventStream.Publish(new ShardReplaced(rank, reason));
        }

        Place(context);
    }
}
