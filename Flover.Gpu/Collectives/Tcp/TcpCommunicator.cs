using System.Diagnostics;
using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Collectives.Tcp;

/// <summary>
/// One rank of a tensor-parallel group whose ranks are separate processes (on one machine or
/// several), joined by a full mesh of TCP connections, optionally TLS with mutual authentication.
/// The data path for the collectives of shards on several cluster nodes: Akka.Remote stays the
/// control plane. Sums are formed exactly as <see cref="InProcessCommunicatorGroup"/> forms them
/// (each element <c>((x₀ + x₁) + x₂) + ...</c> in rank order, by the rank that owns its share,
/// then sent to all), so a group split over processes gives bitwise the results of the same group
/// in one process. Host buffers (the CPU accelerator's) are sent and received in place; a device's
/// (an ILGPU accelerator's) are staged through host memory, the same values, so shards on GPUs of
/// several nodes give the same bits too. Calls block their thread, as a shard's collective does; one
/// call at a time per rank.
/// </summary>
public sealed unsafe partial class TcpCommunicator : ICommunicator, IDisposable
{
    // Large payloads go in pieces, so a socket write never needs a contiguous multi-gigabyte span.
    private const int PieceBytes = 1 << 20;

    // Payloads up to this size are written on the calling thread before it reads: the socket buffers
    // (set to SocketBufferBytes at connect) hold them whole, so a write never waits for the peer to
    // read, and a decode-sized collective saves the thread-pool hand-off of every send.
    private const int InlineSendBytes = 64 << 10;

    /// <summary>Send and receive buffer size of every connection: room for an inline send to every peer at once.</summary>
    internal const int SocketBufferBytes = 1 << 20;

    private readonly Stream?[] _peers;
    private readonly PeerCollectives _collectives;
    private long _collectiveTicks;
    private volatile bool _aborted;

    private TcpCommunicator(int rank, Stream?[] peers)
    {
        Rank = rank;
        _peers = peers;
        _collectives = new PeerCollectives(rank, peers.Length, Exchange);
    }

    /// <inheritdoc />
    public int Rank { get; }

    /// <inheritdoc />
    public int Size => _peers.Length;

    /// <summary>Seconds spent inside collectives so far.</summary>
    public double CollectiveSeconds => Interlocked.Read(ref _collectiveTicks) / (double)Stopwatch.Frequency;

    /// <inheritdoc />
    public void AllReduceSum(ArrayView<float> data)
    {
        long started = Stopwatch.GetTimestamp();
        _collectives.AllReduceSum(data);
        Interlocked.Add(ref _collectiveTicks, Stopwatch.GetTimestamp() - started);
    }

    /// <inheritdoc />
    public void AllGatherColumns(ArrayView<float> local, int rows, ReadOnlySpan<int> offsets, ArrayView<float> gathered, int totalWidth)
    {
        long started = Stopwatch.GetTimestamp();
        _collectives.AllGatherColumns(local, rows, offsets, gathered, totalWidth);
        Interlocked.Add(ref _collectiveTicks, Stopwatch.GetTimestamp() - started);
    }

    /// <summary>
    /// <see cref="AllGatherColumns"/> into rank <paramref name="root"/>'s <paramref name="gathered"/>
    /// only: the other ranks send their slice there and receive nothing (their
    /// <paramref name="gathered"/> is left as it was). What a vocabulary-parallel LM head needs when
    /// only one rank samples: full rows never cross the network to ranks that would drop them.
    /// </summary>
    public void GatherColumns(ArrayView<float> local, int rows, ReadOnlySpan<int> offsets, ArrayView<float> gathered, int totalWidth, int root)
    {
        long started = Stopwatch.GetTimestamp();
        _collectives.GatherColumns(local, rows, offsets, gathered, totalWidth, root);
        Interlocked.Add(ref _collectiveTicks, Stopwatch.GetTimestamp() - started);
    }

    /// <inheritdoc />
    public void Broadcast(ArrayView<float> data, int root) => _collectives.Broadcast(data, root);

    /// <inheritdoc />
    public void Barrier() => _collectives.Barrier();

    /// <summary>Closes every connection: a rank blocked in a collective gets <see cref="CommunicatorAbortedException"/>.</summary>
    public void Abort()
    {
        _aborted = true;
        Close(_peers);
    }

    /// <summary>Closes the connections.</summary>
    public void Dispose() => Close(_peers);

    /// <summary>
    /// Sends <paramref name="send"/>(peer) to every other rank and receives <paramref name="receive"/>(peer)
    /// from each. Large sends run on the thread pool while this thread reads, so two ranks writing
    /// large payloads to each other never both block on full socket buffers; small ones (every send
    /// at most <see cref="InlineSendBytes"/>) fit the buffers and go first, on this thread.
    /// </summary>
    private void Exchange(Func<int, (nint Bytes, long Length)> send, Func<int, (nint Bytes, long Length)> receive)
    {
        var writes = new List<Task>(Size);
        bool inline = true;
        for (int peer = 0; peer < Size; peer++)
        {
            inline &= peer == Rank || send(peer).Length <= InlineSendBytes;
        }

        for (int peer = 0; peer < Size; peer++)
        {
            if (peer == Rank)
            {
                continue;
            }

            (nint bytes, long length) = send(peer);
            if (length <= 0)
            {
                continue;
            }

            Stream stream = _peers[peer]!;
            if (inline)
            {
                Write(stream, bytes, length, peer);
            }
            else
            {
                int target = peer;
                writes.Add(Task.Run(() => Write(stream, bytes, length, target)));
            }
        }

        Exception? failure = null;
        for (int peer = 0; peer < Size; peer++)
        {
            if (peer == Rank)
            {
                continue;
            }

            (nint bytes, long length) = receive(peer);
            try
            {
                Read(_peers[peer]!, bytes, length, peer);
            }
            catch (CommunicatorAbortedException exception)
            {
                failure ??= exception;
                break;
            }
        }

        try
        {
            Task.WaitAll([.. writes]);
        }
        catch (AggregateException exception)
        {
            failure ??= exception.InnerExceptions.OfType<CommunicatorAbortedException>().FirstOrDefault() ?? exception.InnerExceptions[0];
        }

        if (failure is not null)
        {
            throw failure;
        }
    }

    private void Write(Stream stream, nint bytes, long length, int peer)
    {
        try
        {
            for (long done = 0; done < length; done += PieceBytes)
            {
                stream.Write(new ReadOnlySpan<byte>((byte*)bytes + done, (int)Math.Min(PieceBytes, length - done)));
            }

            stream.Flush();
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            throw Lost(peer, exception);
        }
    }

    private void Read(Stream stream, nint bytes, long length, int peer)
    {
        try
        {
            for (long done = 0; done < length; done += PieceBytes)
            {
                stream.ReadExactly(new Span<byte>((byte*)bytes + done, (int)Math.Min(PieceBytes, length - done)));
            }
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or EndOfStreamException)
        {
            throw Lost(peer, exception);
        }
    }

    /// <summary>
    /// The failure of a read or write to <paramref name="peer"/>: this rank's own abort (which closed
    /// the streams under it), or the peer's connection dropping, which names the peer so the group's
    /// owner can suspect its node at once (a killed process's sockets are closed by its kernel long
    /// before a failure detector declares the node gone).
    /// </summary>
    private CommunicatorAbortedException Lost(int peer, Exception cause) =>
        _aborted
            ? new("The tensor-parallel group was aborted while this rank waited in a collective.", cause)
            : new($"Tensor-parallel rank {peer}'s connection to rank {Rank} failed during a collective: {cause.Message}", peer, cause);
}
