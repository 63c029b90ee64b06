using Flover.Gpu.Accelerators;
using Flover.Gpu.Collectives;
using Flover.Gpu.Collectives.Tcp;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// One rank's view of a group whose ranks live on several nodes, as a <see cref="ShardActor"/> holds
/// a group: its own communicator (a <see cref="TcpCommunicator"/> mesh) and an abort that closes
/// the mesh. The group is never reset or relinked: after a failure the placement forms a new mesh
/// for new shard actors, and this one stays closed.
/// </summary>
internal sealed class TcpShardGroup(TcpCommunicator tcp) : ICommunicatorGroup
{
    private readonly ICommunicator _communicator = new RankZeroGather(tcp);

    public int Size => tcp.Size;

    public double CollectiveSeconds => tcp.CollectiveSeconds;

    public ICommunicator this[int rank] => rank == tcp.Rank
        ? _communicator
        : throw new ArgumentOutOfRangeException(nameof(rank), $"This node holds rank {tcp.Rank} of the group, not rank {rank}.");

    public void Abort() => tcp.Abort();

    public void Reset() => throw new NotSupportedException("A mesh across nodes is never reset: the group is placed again.");

    /// <summary>
    /// The TCP communicator with the vocabulary-parallel LM head's gather going to rank 0 alone: only
    /// rank 0's logits are read (a <see cref="ShardActor"/> of another rank answers without them), so
    /// full rows never cross the network to ranks that would drop them. The other ranks'
    /// gathered buffers are left as they were.
    /// </summary>
    private sealed class RankZeroGather(TcpCommunicator tcp) : ICommunicator
    {
        public int Rank => tcp.Rank;

        public int Size => tcp.Size;

        public void AllReduceSum(ArrayView<float> data) => tcp.AllReduceSum(data);

        public void AllGatherColumns(ArrayView<float> local, int rows, ReadOnlySpan<int> offsets, ArrayView<float> gathered, int totalWidth) =>
            tcp.GatherColumns(local, rows, offsets, gathered, totalWidth, root: 0);

        public void Broadcast(ArrayView<float> data, int root) => tcp.Broadcast(data, root);

        public void Barrier() => tcp.Barrier();
    }
}
