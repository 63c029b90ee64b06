using Flover.Gpu.Accelerators;
using Flover.Gpu.Collectives;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// A shard's communicator that can be moved to a new group: the model keeps this one object, and
/// after a failed step the decode loop gives the surviving shards a fresh group while the old one
/// stays aborted for good. A shard left behind inside a kernel (timed out, replaced) can then
/// never meet the new group's ranks: when it returns, its collectives on the old group throw.
/// Used only from the shard's own thread.
/// </summary>
internal sealed class RelinkableCommunicator(ICommunicator target) : ICommunicator
{
    private ICommunicator _target = target;

    public int Rank => _target.Rank;

    public int Size => _target.Size;

    /// <summary>Moves to <paramref name="target"/> (same rank and size), between steps.</summary>
    public void Relink(ICommunicator target)
    {
        if (target.Rank != _target.Rank || target.Size != _target.Size)
        {
            throw new ArgumentException($"Rank {target.Rank} of {target.Size} cannot replace rank {_target.Rank} of {_target.Size}.", nameof(target));
        }

        _target = target;
    }

    public void AllReduceSum(ArrayView<float> data) => _target.AllReduceSum(data);

    public void AllGatherColumns(ArrayView<float> local, int rows, ReadOnlySpan<int> offsets, ArrayView<float> gathered, int totalWidth) =>
        _target.AllGatherColumns(local, rows, offsets, gathered, totalWidth);

    public void Broadcast(ArrayView<float> data, int root) => _target.Broadcast(data, root);

    public void Barrier() => _target.Barrier();
}
