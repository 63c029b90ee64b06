using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Collectives;

/// <summary>
/// Sends <c>send(peer)</c> to every other rank and receives <c>receive(peer)</c> from each; a length
/// of 0 means nothing that way. Every non-empty send arrives whole at the matching receive.
/// </summary>
/// <param name="send">The bytes this rank sends to a peer.</param>
/// <param name="receive">Where the bytes from a peer go.</param>
internal delegate void PeerExchange(Func<int, (nint Bytes, long Length)> send, Func<int, (nint Bytes, long Length)> receive);

/// <summary>
/// The collectives of a group whose ranks only exchange bytes with each other (over TCP streams, or
/// as Akka.Remote messages): one algorithm for every transport. An all-reduce is a reduce-scatter
/// (each rank owns a contiguous share and adds everyone's values for it in rank order, its own in
/// its place: <c>((x₀ + x₁) + x₂) + ...</c>, as the in-process group does) then an all-gather of the
/// summed shares, so every transport's result is bitwise the in-process group's. Buffers in host
/// memory (the CPU accelerator's) are read and written in place; a device's are staged through host
/// memory (<see cref="HostStaging"/>), so shards on GPUs of several nodes use the same transports.
/// One call at a time per rank.
/// </summary>
internal sealed unsafe class PeerCollectives(int rank, int size, PeerExchange exchange)
{
    private readonly HostStaging _staging = new();
    private float[] _scratch = [];

    public int Rank { get; } = rank;

    public int Size { get; } = size;

    /// <inheritdoc cref="ICommunicator.AllReduceSum"/>
    public void AllReduceSum(ArrayView<float> data)
    {
        float* x = _staging.Write(data, current: true);
        long length = data.Length;
        (long first, long end) = Share(length, Rank);
        long mine = end - first;
        fixed (float* received = Scratch(mine * Size))
        {
            // Reduce-scatter: every rank sends each owner that owner's share of its values...
            float* into = received;
            exchange(
                peer => { (long f, long e) = Share(length, peer); return ((nint)(x + f), (e - f) * sizeof(float)); },
                peer => ((nint)(into + (peer * mine)), mine * sizeof(float)));

            // ...and the owner adds them in rank order, its own values in their place in the order.
            for (long i = 0; i < mine; i++)
            {
                float sum = Rank == 0 ? x[first + i] : received[i];
                for (int r = 1; r < Size; r++)
                {
                    sum += r == Rank ? x[first + i] : received[(r * mine) + i];
                }

                x[first + i] = sum;
            }
        }

        // All-gather: each owner sends its summed share to everyone.
        exchange(
            _ => ((nint)(x + first), mine * sizeof(float)),
            peer => { (long f, long e) = Share(length, peer); return ((nint)(x + f), (e - f) * sizeof(float)); });
        _staging.Written(data);
    }

    /// <inheritdoc cref="ICommunicator.AllGatherColumns"/>
    public void AllGatherColumns(ArrayView<float> local, int rows, ReadOnlySpan<int> offsets, ArrayView<float> gathered, int totalWidth) =>
        Gather(local, rows, offsets, gathered, totalWidth, root: null);

    /// <summary>
    /// <see cref="AllGatherColumns"/> into rank <paramref name="root"/>'s <paramref name="gathered"/>
    /// only: the other ranks send their slice there and receive nothing (their
    /// <paramref name="gathered"/> is left as it was).
    /// </summary>
    public void GatherColumns(ArrayView<float> local, int rows, ReadOnlySpan<int> offsets, ArrayView<float> gathered, int totalWidth, int root)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)root, (uint)Size, nameof(root));
        Gather(local, rows, offsets, gathered, totalWidth, root);
    }

    /// <inheritdoc cref="ICommunicator.Broadcast"/>
    public void Broadcast(ArrayView<float> data, int root)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)root, (uint)Size, nameof(root));
        // The root only reads its buffer, the others only write theirs: nothing is copied that is not needed.
        nint bytes = (nint)(Rank == root ? _staging.Read(data) : _staging.Write(data, current: false));
        long length = data.Length * sizeof(float);
        exchange(
            _ => Rank == root ? (bytes, length) : (0, 0),
            peer => peer == root ? (bytes, length) : (0, 0));
        if (Rank != root)
        {
            _staging.Written(data);
        }
    }

    /// <inheritdoc cref="ICommunicator.Barrier"/>
    public void Barrier()
    {
        // One byte each way: an empty send would be no send at all.
        byte token = 1;
        byte* received = stackalloc byte[Size];
        nint one = (nint)(&token);
        nint each = (nint)received;
        exchange(_ => (one, 1), peer => (each + peer, 1));
    }

    private (long First, long End) Share(long length, int rank) => (length * rank / Size, length * (rank + 1) / Size);

    private float[] Scratch(long length)
    {
        if (_scratch.Length < length)
        {
            _scratch = new float[length];
        }

        return _scratch;
    }

    /// <summary>Every rank's slice to every rank (<paramref name="root"/> null) or to the root alone.</summary>
    private void Gather(ArrayView<float> local, int rows, ReadOnlySpan<int> offsets, ArrayView<float> gathered, int totalWidth, int? root)
    {
        if (offsets.Length != Size + 1 || offsets[^1] != totalWidth)
        {
            throw new ArgumentException($"Offsets need {Size + 1} entries ending at the total width {totalWidth}.", nameof(offsets));
        }

        int[] starts = offsets.ToArray();
        float* source = _staging.Read(local.SubView(0, (long)rows * (starts[Rank + 1] - starts[Rank])));
        long own = (long)rows * (starts[Rank + 1] - starts[Rank]) * sizeof(float);
        if (root is { } only && Rank != only)
        {
            exchange(peer => peer == only ? ((nint)source, own) : (0, 0), _ => (0, 0));
            return;
        }

        fixed (float* blocks = Scratch((long)rows * totalWidth))
        {
            // Every rank's block lands whole at rows × its offset, then is spread into columns.
            float* landed = blocks;
            exchange(
                _ => root is null ? ((nint)source, own) : (0, 0),
                peer => ((nint)(landed + ((long)rows * starts[peer])), (long)rows * (starts[peer + 1] - starts[peer]) * sizeof(float)));
            Buffer.MemoryCopy(source, landed + ((long)rows * starts[Rank]), own, own);
            ArrayView<float> rowsGathered = gathered.SubView(0, (long)rows * totalWidth);
            float* target = _staging.Write(rowsGathered, current: false);
            for (int r = 0; r < Size; r++)
            {
                int width = starts[r + 1] - starts[r];
                long bytes = (long)width * sizeof(float);
                for (int row = 0; row < rows; row++)
                {
                    Buffer.MemoryCopy(landed + ((long)rows * starts[r]) + ((long)row * width), target + ((long)row * totalWidth) + starts[r], bytes, bytes);
                }
            }

            _staging.Written(rowsGathered);
        }
    }
}
