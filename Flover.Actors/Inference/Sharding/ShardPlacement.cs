using Akka.Actor;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// Where a tensor-parallel group's ranks run when they span nodes: rank 0 on the decode loop's own
/// node, the other ranks on the shard hosts (<see cref="ShardHostActor"/> at
/// <c>/user/flover-shard-host</c>) of <see cref="Nodes"/>, one rank per node, taken in order. Each
/// node opens its rank from its own copy of the model (no Props or weights travel); the ranks
/// exchange activations over a <see cref="Gpu.Collectives.Tcp.TcpCommunicator"/> mesh and Akka.Remote
/// carries only the step plans. When a rank is lost the whole group is placed again: a node that
/// does not answer within <see cref="Timeout"/>, or has no room, is passed over for the next.
/// </summary>
public sealed record ShardPlacement
{
    /// <summary>Places ranks 1.. on the shard hosts of <paramref name="nodes"/> (Akka addresses, e.g. <c>akka.tcp://flover@10.0.0.2:4053</c>), in order of preference.</summary>
    /// <exception cref="ArgumentException">No node, or a node named twice.</exception>
    public ShardPlacement(IReadOnlyList<Address> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count == 0)
        {
            throw new ArgumentException("A placement across nodes needs at least one node besides the decode loop's.", nameof(nodes));
        }

        if (nodes.Distinct().Count() != nodes.Count)
        {
            throw new ArgumentException($"A node is named twice among the shard nodes ({string.Join(", ", nodes)}).", nameof(nodes));
        }

        Nodes = nodes;
    }

    /// <summary>The nodes whose shard hosts may hold ranks 1.., in order of preference.</summary>
    public IReadOnlyList<Address> Nodes { get; }

    /// <summary>How long each round of a placement may take (a host's answer; the mesh forming) before the silent hosts are passed over (30 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}
