using System.Net;
using Akka.Actor;
using Akka.Event;
using Flover.Gpu.Collectives.Tcp;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// A node's shard host, at <c>/user/flover-shard-host</c>: opens tensor-parallel ranks of groups
/// whose decode loop runs elsewhere (or here, for rank 0), each as a local <see cref="ShardActor"/>
/// that loads its slice from this node's copy of the model. Nothing is deployed remotely: a Props
/// closes over weights, which never travel. The host binds each rank's listener, joins the TCP mesh
/// once the placement has sent every rank's endpoint, and watches its shards and their owners: a
/// shard that stops has its mesh closed (so its peers' collectives fail at once instead of hanging),
/// and a placement that stops (its group superseded, or its node lost) takes its shards with it.
/// </summary>
public sealed class ShardHostActor : ReceiveActor
{
    /// <summary>The host's name under <c>/user</c>, the same on every node.</summary>
    public const string Name = "flover-shard-host";

    private readonly ShardHostOptions _options;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<HostedRank> _ranks = [];
    // The node's address as other nodes know it (a local reference's path carries no host).
    private readonly Address _address = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress;
    private int _started;

    /// <summary>Creates the host (use <see cref="Props"/>).</summary>
    public ShardHostActor(ShardHostOptions options)
    {
        _options = options;
        Receive<OpenShard>(Open);
        Receive<JoinShardMesh>(Join);
        Receive<MeshFormed>(Formed);
        Receive<MeshFailed>(failed =>
        {
            if (_ranks.Remove(failed.Rank))
            {
                failed.Rank.Close();
                failed.Rank.Placement.Tell(new ShardOpenFailed(failed.Rank.Generation, failed.Rank.Index, failed.Reason));
            }
        });
        Receive<Terminated>(Stopped);
        // A rank has loaded: the node's checkpoint may close (ShardedModel.WhenLoaded; a later
        // load opens it again), so generated or mapped weights do not stay beside the ranks' copies.
        Receive<ShardReady>(_ => _options.Model.WhenLoaded?.Invoke());
    }

    /// <summary>Props of a host (name it <see cref="Name"/>) opening ranks from <paramref name="options"/>'s model.</summary>
    public static Props Props(ShardHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Capacity, 1);
        return Akka.Actor.Props.Create(() => new ShardHostActor(options));
    }

    /// <summary>Shards that fail are stopped: only their placement can give a rank a new mesh.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

    /// <summary>The node is going away: close every mesh and listener (its shards stop with it).</summary>
    protected override void PostStop()
    {
        foreach (HostedRank rank in _ranks)
        {
            rank.Close();
        }

        _ranks.Clear();
    }

    private void Open(OpenShard open)
    {
        // A new generation of an owner supersedes its older ones here: their ranks are closed before
        // room is counted, so a rebuilt group never finds this node full of its own lost group.
        foreach (HostedRank old in _ranks.Where(r => r.Owner == open.Owner && r.Generation != open.Generation).ToList())
        {
            Drop(old);
        }

        // A model on a device is no reason to refuse: the mesh stages device buffers through host memory.
        string? refusal = open.Size != _options.Model.ShardCount
            ? $"{_address}'s shard host opens ranks of groups of {_options.Model.ShardCount}, not {open.Size}"
            : _ranks.Count >= _options.Capacity
            ? $"{_address}'s shard host is full ({_ranks.Count} of {_options.Capacity} ranks)"
            : null;
        if (refusal is not null)
        {
            Sender.Tell(new ShardOpenFailed(open.Generation, open.Rank, refusal));
            return;
        }

        TcpCommunicatorListener listener;
        try
        {
            listener = new TcpCommunicatorListener(new IPEndPoint(_options.ListenAddress, 0));
        }
        catch (Gpu.FloverException exception)
        {
            Sender.Tell(new ShardOpenFailed(open.Generation, open.Rank, exception.Message));
            return;
        }

        var rank = new HostedRank(open.Owner, open.Generation, open.Rank, open.Slots, Sender) { Listener = listener };
        _ranks.Add(rank);
        // Its owner's placement going away (superseded, or its node lost) closes the rank here.
        Context.Watch(Sender);
        string host = _options.AdvertisedHost ?? _options.ListenAddress.ToString();
        Sender.Tell(new ShardListening(open.Generation, open.Rank, host, listener.Endpoint.Port));
    }

    private void Join(JoinShardMesh join)
    {
        HostedRank? rank = _ranks.Find(r => r.Placement.Equals(Sender) && r.Generation == join.Generation && r.Index == join.Rank);
        if (rank?.Listener is not { } listener || rank.Joining)
        {
            Sender.Tell(new ShardOpenFailed(join.Generation, join.Rank, $"{_address}'s shard host holds no listening rank {join.Rank} of that placement"));
            return;
        }

        rank.Joining = true;
        // Connecting waits for every other rank: it runs off the actor's thread, and its outcome
        // comes back as a message, so the host keeps answering (and can supersede the rank) meanwhile.
        Connect(listener, join.Rank, join.Endpoints, _options.Tcp).PipeTo(
            Self,
            success: communicator => new MeshFormed(rank, communicator),
            failure: exception => new MeshFailed(rank, $"rank {join.Rank} on {_address} could not join the mesh: {Describe(exception)}"));
    }

    private void Formed(MeshFormed formed)
    {
        HostedRank rank = formed.Rank;
        if (!_ranks.Contains(rank))
        {
            // Superseded while it connected.
            formed.Communicator.Dispose();
            return;
        }

        rank.Listener?.Dispose();
        rank.Listener = null;
        rank.Communicator = formed.Communicator;
        var group = new TcpShardGroup(formed.Communicator);
        ShardedModel model = _options.Model;
        int index = rank.Index;
        int slots = rank.Slots;
        rank.Shard = Context.ActorOf(
            Akka.Actor.Props.Create(() => new ShardActor(model, slots, group, index)).WithDispatcher(model.Dispatcher),
            $"shard-{++_started}-rank-{index}");
        Context.Watch(rank.Shard);
        rank.Shard.Tell(ShardReadyQuery.Instance, Self);
        _log.Info("Opened tensor-parallel rank {0} of {1} for {2} (generation {3}).", index, formed.Communicator.Size, rank.Owner, rank.Generation);
        rank.Placement.Tell(new ShardOpened(rank.Generation, index), rank.Shard);
    }

    private void Stopped(Terminated terminated)
    {
        foreach (HostedRank rank in _ranks.Where(r => terminated.ActorRef.Equals(r.Shard) || terminated.ActorRef.Equals(r.Placement)).ToList())
        {
            Drop(rank);
        }
    }

    private void Drop(HostedRank rank)
    {
        _ranks.Remove(rank);
        // Closing the mesh wakes a shard still inside a collective (and its peers) before it is stopped.
        rank.Close();
        if (rank.Shard is { } shard)
        {
            Context.Unwatch(shard);
            Context.Stop(shard);
        }
    }

    /// <summary>The one-line error naming the peer (the communicator's), not the socket's or TLS stack's bare message beneath it.</summary>
    private static string Describe(Exception exception)
    {
        for (Exception? cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is Gpu.FloverException)
            {
                return cause.Message;
            }
        }

        return exception.GetBaseException().Message;
    }

    private static async Task<TcpCommunicator> Connect(TcpCommunicatorListener listener, int rank, IReadOnlyList<string> endpoints, TcpCommunicatorOptions options)
    {
        var resolved = new IPEndPoint[endpoints.Count];
        for (int r = 0; r < resolved.Length; r++)
        {
            resolved[r] = await Resolve(endpoints[r]).ConfigureAwait(false);
        }

        return await TcpCommunicator.ConnectAsync(listener, rank, resolved, options).ConfigureAwait(false);
    }

    private static async Task<IPEndPoint> Resolve(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), out int port))
        {
            throw new Gpu.FloverException($"'{endpoint}' is not a host:port endpoint");
        }

        string host = endpoint[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return new IPEndPoint(address, port);
        }

        IPAddress[] addresses = await Dns.GetHostAddressesAsync(host).ConfigureAwait(false);
        return addresses.Length > 0 ? new IPEndPoint(addresses[0], port) : throw new Gpu.FloverException($"'{host}' resolves to no address");
    }

    /// <summary>A rank this host holds, from its listener to its shard; touched only on the host's thread.</summary>
    private sealed class HostedRank(string owner, long generation, int index, int slots, IActorRef placement)
    {
        public string Owner { get; } = owner;

        public long Generation { get; } = generation;

        public int Index { get; } = index;

        public int Slots { get; } = slots;

        public IActorRef Placement { get; } = placement;

        public TcpCommunicatorListener? Listener { get; set; }

        public bool Joining { get; set; }

        public TcpCommunicator? Communicator { get; set; }

        public IActorRef? Shard { get; set; }

        public void Close()
        {
            Listener?.Dispose();
            Listener = null;
            Communicator?.Abort();
        }
    }

    /// <summary>The mesh of <paramref name="Rank"/> is up.</summary>
    private sealed record MeshFormed(HostedRank Rank, TcpCommunicator Communicator) : INoSerializationVerificationNeeded;

    /// <summary>The mesh of <paramref name="Rank"/> did not form.</summary>
    private sealed record MeshFailed(HostedRank Rank, string Reason) : INoSerializationVerificationNeeded;
}
