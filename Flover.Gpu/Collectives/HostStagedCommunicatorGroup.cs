using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Collectives;

/// <summary>
/// The ranks of a tensor-parallel group in one process whose buffers live on devices (ILGPU
/// accelerators, one per rank): each collective copies the rank's device data to a host staging
/// array, meets the others at a barrier, reduces or gathers on the host in rank order, meets
/// again (so no staging array changes while another rank reads it) and copies the result back.
/// Correct on any accelerator and deterministic, but every collective crosses the host twice: a
/// device-to-device path (NCCL or peer copies) is future work. Staging arrays grow to the largest
/// collective and are reused, so steady-state calls allocate nothing.
/// </summary>
public sealed class HostStagedCommunicatorGroup : ICommunicatorGroup
{
    private readonly Member[] _ranks;
    private readonly float[][] _staged;
    private Barrier _barrier;
    private CancellationTokenSource _abort = new();
    private long _collectiveTicks;

    /// <summary>Creates a group of <paramref name="size"/> ranks.</summary>
    public HostStagedCommunicatorGroup(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        Size = size;
        _staged = [.. Enumerable.Range(0, size).Select(_ => Array.Empty<float>())];
        _barrier = new Barrier(size);
        _ranks = [.. Enumerable.Range(0, size).Select(rank => new Member(this, rank))];
    }

    /// <summary>Ranks in the group.</summary>
    public int Size { get; }

    /// <summary>The communicator of rank <paramref name="rank"/> (use it from that rank's thread).</summary>
    public ICommunicator this[int rank] => _ranks[rank];

    /// <summary>Wakes every rank waiting in a collective with <see cref="CommunicatorAbortedException"/> (a rank failed); the group stays aborted.</summary>
    public void Abort() => _abort.Cancel();

    /// <summary>Seconds all ranks have spent inside collectives (waiting and host copies included), summed over ranks.</summary>
    public double CollectiveSeconds => Interlocked.Read(ref _collectiveTicks) / (double)System.Diagnostics.Stopwatch.Frequency;

    /// <summary>
    /// Makes an aborted group usable again (a tensor-parallel model recovers from a failed step).
    /// Call only when no rank is inside a collective.
    /// </summary>
    public void Reset()
    {
        _barrier.Dispose();
        _barrier = new Barrier(Size);
        _abort.Dispose();
        _abort = new CancellationTokenSource();
    }

    private void AddTime(long started) =>
        Interlocked.Add(ref _collectiveTicks, System.Diagnostics.Stopwatch.GetTimestamp() - started);

    private void Meet()
    {
        try
        {
            _barrier.SignalAndWait(_abort.Token);
        }
        catch (OperationCanceledException exception)
        {
            throw new CommunicatorAbortedException("The tensor-parallel group was aborted while this rank waited in a collective.", exception);
        }
    }

    private float[] Stage(int rank, ArrayView<float> data)
    {
        if (_staged[rank].Length < data.Length)
        {
            _staged[rank] = new float[data.Length];
        }

        data.Buffer!.Accelerator.Synchronize();
        data.Buffer.Accelerator.CopyToCpu(data, _staged[rank].AsSpan(0, (int)data.Length));
        return _staged[rank];
    }

    private sealed class Member(HostStagedCommunicatorGroup group, int rank) : ICommunicator
    {
        private float[] _result = [];

        public int Rank => rank;

        public int Size => group.Size;

        public void AllReduceSum(ArrayView<float> data)
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                AllReduceSumCore(data);
            }
            finally
            {
                group.AddTime(started);
            }
        }

        public void AllGatherColumns(ArrayView<float> local, int rows, ReadOnlySpan<int> offsets, ArrayView<float> gathered, int totalWidth)
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                AllGatherColumnsCore(local, rows, offsets, gathered, totalWidth);
            }
            finally
            {
                group.AddTime(started);
            }
        }

        public void Broadcast(ArrayView<float> data, int root)
        {
            if (rank == root)
            {
                group.Stage(rank, data);
            }

            group.Meet();
            if (rank != root)
            {
                data.Buffer!.Accelerator.CopyFromCpu<float>(group._staged[root].AsSpan(0, (int)data.Length), data);
            }

            group.Meet();
        }

        public void Barrier() => group.Meet();

        private void AllReduceSumCore(ArrayView<float> data)
        {
            int length = (int)data.Length;
            group.Stage(rank, data);
            group.Meet();
            float[] result = Result(length);
            // Every rank adds the same values in rank order, so all hold bitwise the same sums.
            group._staged[0].AsSpan(0, length).CopyTo(result);
            for (int other = 1; other < group.Size; other++)
            {
                float[] values = group._staged[other];
                for (int i = 0; i < length; i++)
                {
                    result[i] += values[i];
                }
            }

            group.Meet();
            data.Buffer!.Accelerator.CopyFromCpu<float>(result.AsSpan(0, length), data);
        }

        private void AllGatherColumnsCore(ArrayView<float> local, int rows, ReadOnlySpan<int> offsets, ArrayView<float> gathered, int totalWidth)
        {
            group.Stage(rank, local.SubView(0, (long)rows * (offsets[rank + 1] - offsets[rank])));
            group.Meet();
            float[] result = Result(rows * totalWidth);
            for (int other = 0; other < group.Size; other++)
            {
                int width = offsets[other + 1] - offsets[other];
                for (int row = 0; row < rows; row++)
                {
                    group._staged[other].AsSpan(row * width, width).CopyTo(result.AsSpan((row * totalWidth) + offsets[other], width));
                }
            }

            group.Meet();
            gathered.Buffer!.Accelerator.CopyFromCpu<float>(result.AsSpan(0, rows * totalWidth), gathered.SubView(0, (long)rows * totalWidth));
        }

        private float[] Result(int length)
        {
            if (_result.Length < length)
            {
                _result = new float[length];
            }

            return _result;
        }
    }
}
