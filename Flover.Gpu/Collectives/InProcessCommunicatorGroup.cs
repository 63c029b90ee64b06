using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Collectives;

/// <summary>
/// The ranks of a tensor-parallel group inside one process, exchanging data through shared memory:
/// each collective publishes every rank's buffer address, meets at a barrier, lets each rank work on
/// its own share of the elements (reading the others' buffers directly), and meets again before any
/// buffer may change. Nothing is allocated per call. CPU buffers only.
/// </summary>
public sealed unsafe class InProcessCommunicatorGroup : ICommunicatorGroup
{
    private readonly Member[] _ranks;
    private readonly float*[] _published;
    private Barrier _barrier;
    private long _collectiveTicks;
    private CancellationTokenSource _abort = new();

    /// <summary>Creates a group of <paramref name="size"/> ranks.</summary>
    public InProcessCommunicatorGroup(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        Size = size;
        _published = new float*[size];
        _barrier = new Barrier(size);
        _ranks = [.. Enumerable.Range(0, size).Select(rank => new Member(this, rank))];
    }

    /// <summary>Ranks in the group.</summary>
    public int Size { get; }

    /// <summary>Seconds all ranks have spent inside collectives (waiting included), summed over ranks.</summary>
    public double CollectiveSeconds => Interlocked.Read(ref _collectiveTicks) / (double)System.Diagnostics.Stopwatch.Frequency;

    /// <summary>The communicator of rank <paramref name="rank"/> (one per rank; use it from that rank's thread).</summary>
    public ICommunicator this[int rank] => _ranks[rank];

    /// <summary>
    /// Wakes every rank waiting in a collective with <see cref="CommunicatorAbortedException"/>: a rank
    /// failed and the others must not wait for it for ever.
    /// </summary>
    public void Abort() => _abort.Cancel();

    /// <summary>
    /// Makes an aborted group usable again. Call only when no rank is inside a collective (every
    /// rank's call has returned or thrown).
    /// </summary>
    public void Reset()
    {
        _barrier.Dispose();
        _barrier = new Barrier(Size);
        _abort.Dispose();
        _abort = new CancellationTokenSource();
    }

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

    private static (long First, long End) Share(long length, int rank, int size) =>
        (length * rank / size, length * (rank + 1) / size);

    private sealed class Member(InProcessCommunicatorGroup group, int rank) : ICommunicator
    {
        public int Rank => rank;

        public int Size => group.Size;

        public void AllReduceSum(ArrayView<float> data)
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            group._published[rank] = CpuAccelerator.Pointer(data);
            group.Meet();
            // Each rank reduces its own share of the elements and writes the sum into every rank's
            // buffer: shares are disjoint, so no element is read and written by two ranks.
            (long first, long end) = Share(data.Length, rank, group.Size);
            float*[] buffers = group._published;
            for (long i = first; i < end; i++)
            {
                float sum = buffers[0][i];
                for (int r = 1; r < buffers.Length; r++)
                {
                    sum += buffers[r][i];
                }

                for (int r = 0; r < buffers.Length; r++)
                {
                    buffers[r][i] = sum;
                }
            }

            // Nobody may reuse its buffer until every share is written.
            group.Meet();
            Interlocked.Add(ref group._collectiveTicks, System.Diagnostics.Stopwatch.GetTimestamp() - started);
        }

        public void AllGatherColumns(ArrayView<float> local, int rows, ReadOnlySpan<int> offsets, ArrayView<float> gathered, int totalWidth)
        {
            if (offsets.Length != group.Size + 1 || offsets[^1] != totalWidth)
            {
                throw new ArgumentException($"Offsets need {group.Size + 1} entries ending at the total width {totalWidth}.", nameof(offsets));
            }

            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            group._published[rank] = CpuAccelerator.Pointer(local);
            group.Meet();
            float* target = CpuAccelerator.Pointer(gathered);
            for (int r = 0; r < group.Size; r++)
            {
                int width = offsets[r + 1] - offsets[r];
                float* source = group._published[r];
                for (int row = 0; row < rows; row++)
                {
                    Buffer.MemoryCopy(source + ((long)row * width), target + ((long)row * totalWidth) + offsets[r], width * sizeof(float), width * sizeof(float));
                }
            }

            group.Meet();
            Interlocked.Add(ref group._collectiveTicks, System.Diagnostics.Stopwatch.GetTimestamp() - started);
        }

        public void Broadcast(ArrayView<float> data, int root)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)root, (uint)group.Size, nameof(root));
            group._published[rank] = CpuAccelerator.Pointer(data);
            group.Meet();
            if (rank != root)
            {
                long bytes = data.Length * sizeof(float);
                Buffer.MemoryCopy(group._published[root], group._published[rank], bytes, bytes);
            }

            group.Meet();
        }

        public void Barrier() => group.Meet();
    }
}
