using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Collectives;

/// <summary>
/// A tensor-parallel group as its owner (a model split over shards) drives it: one communicator per
/// rank, abort when a rank fails, reset once every rank has returned. Which implementation depends
/// on where the shards' buffers live: shared memory for the CPU engine, host staging for devices.
/// </summary>
internal interface ICommunicatorGroup
{
    /// <summary>Ranks in the group.</summary>
    int Size { get; }

    /// <summary>Seconds all ranks have spent inside collectives (waiting included), summed over ranks.</summary>
    double CollectiveSeconds { get; }

    /// <summary>The communicator of rank <paramref name="rank"/> (use it from that rank's thread).</summary>
    ICommunicator this[int rank] { get; }

    /// <summary>Wakes every rank waiting in a collective with <see cref="CommunicatorAbortedException"/>.</summary>
    void Abort();

    /// <summary>Makes an aborted group usable again; only when no rank is inside a collective.</summary>
    void Reset();

    /// <summary>
    /// The group for shards on <paramref name="kind"/>: <see cref="InProcessCommunicatorGroup"/> reads
    /// the other ranks' CPU buffers directly, which device buffers do not allow, so shards on a device
    /// go through <see cref="HostStagedCommunicatorGroup"/> (two host crossings per collective).
    /// </summary>
    static ICommunicatorGroup Create(AcceleratorKind kind, int size) =>
        kind == AcceleratorKind.Cpu ? new InProcessCommunicatorGroup(size) : new HostStagedCommunicatorGroup(size);
}
