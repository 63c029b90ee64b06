using Akka.Actor;

namespace Flover.Actors.Inference.Sharding;

// The placement protocol between a group's placement (on rank 0's node) and the shard hosts
// (/user/flover-shard-host on every node). Each rank is opened in two rounds, because a TCP mesh
// can only form once every rank's listener is known: OpenShard → ShardListening (each host binds a
// listener and reports its endpoint), then JoinShardMesh → ShardOpened (every host is told every
// endpoint, joins the mesh, and starts the rank's shard actor, which loads its slice locally).
// The messages cross nodes: Flover's serializer writes them (ProtocolSerializer.Hosts.cs).

/// <summary>
/// A group's placement → a node's shard host: be rank <paramref name="Rank"/> of a group of
/// <paramref name="Size"/> ranks with <paramref name="Slots"/> KV slots. The host binds a listener
/// and answers <see cref="ShardListening"/>, or <see cref="ShardOpenFailed"/> (full, another group
/// size). A newer <paramref name="Generation"/> of the same <paramref name="Owner"/> replaces
/// whatever the host holds for that owner's older generations (a rebuilt group supersedes the lost one).
/// </summary>
/// <param name="Owner">The group's owner (its decode loop's full path with uid), the same for every generation.</param>
/// <param name="Generation">The placement: grows by one each time the owner places its group again.</param>
/// <param name="Rank">The rank to open.</param>
/// <param name="Size">Ranks in the group.</param>
/// <param name="Slots">KV slots of the rank's model.</param>
public sealed record OpenShard(string Owner, long Generation, int Rank, int Size, int Slots);

/// <summary>A shard host → the placement: rank <paramref name="Rank"/> listens for its tensor-parallel peers at <paramref name="Host"/>:<paramref name="Port"/>.</summary>
/// <param name="Generation">The placement.</param>
/// <param name="Rank">The rank.</param>
/// <param name="Host">The address the other ranks dial (the host's advertised name or IP).</param>
/// <param name="Port">The port its listener was given.</param>
public sealed record ShardListening(long Generation, int Rank, string Host, int Port);

/// <summary>The placement → every host of the group: the ranks' endpoints (<c>host:port</c>, by rank); form the mesh and start the shard.</summary>
/// <param name="Generation">The placement.</param>
/// <param name="Rank">The rank this host opens.</param>
/// <param name="Endpoints">Every rank's listener, by rank.</param>
public sealed record JoinShardMesh(long Generation, int Rank, IReadOnlyList<string> Endpoints);

/// <summary>A shard host → the placement, sent by the rank's new shard actor's reference: the mesh is up and the shard loads its model (it answers <see cref="ShardReadyQuery"/> once loaded).</summary>
/// <param name="Generation">The placement.</param>
/// <param name="Rank">The rank.</param>
public sealed record ShardOpened(long Generation, int Rank);

/// <summary>A shard host → the placement: rank <paramref name="Rank"/> cannot be opened there (one line: why).</summary>
/// <param name="Generation">The placement.</param>
/// <param name="Rank">The rank.</param>
/// <param name="Reason">Why (full, another group size, the mesh did not form).</param>
public sealed record ShardOpenFailed(long Generation, int Rank, string Reason);

/// <summary>Placement → its owner (the decode loop or a shard driver): every rank is open, its shard actors by rank.</summary>
internal sealed record ShardsPlaced(long Generation, IReadOnlyList<IActorRef> Shards) : INoSerializationVerificationNeeded;

/// <summary>Placement → its owner: the group cannot be placed (one line naming each host tried and why).</summary>
internal sealed record ShardPlacementFailed(long Generation, string Reason) : INoSerializationVerificationNeeded;
