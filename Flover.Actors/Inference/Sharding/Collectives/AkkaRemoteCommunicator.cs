using Akka.Actor;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Collectives;

namespace Flover.Actors.Inference.Sharding.Collectives;

/// <summary>
/// One rank of a tensor-parallel group whose ranks exchange their chunks as Akka.Remote messages
/// (<see cref="CollectiveChunk"/>, written by Flover's binary serializer), each rank an actor system
/// of its own or several in one. The measured alternative to <see cref="Flover.Gpu.Collectives.Tcp.TcpCommunicator"/>
/// (issue 25): sums are formed as the TCP path forms them (each element <c>((x₀ + x₁) + x₂) + ...</c>
/// in rank order by the rank that owns its share, then sent to all), so the results are bitwise the
/// in-process group's. Host buffers are used in place, a device's staged through host memory (as on
/// the TCP path). Calls block their thread, as a shard's collective does; one call at a time per rank.
/// </summary>
internal sealed class AkkaRemoteCommunicator : ICommunicator, IDisposable
{
    // Pieces stay below Akka.Remote's default maximum-frame-size (128000 bytes), so the path works on
    // a system without Flover's remote settings: a bigger message would be dropped, not failed.
    internal const int PieceBytes = 64 << 10;

    private const string AbortedMessage = "The tensor-parallel group was aborted while this rank waited in a collective.";

    private readonly ActorSystem _system;
    private readonly IActorRef _receiver;

    // Guards the inboxes and the abort reason. The receiver actor only enqueues under it and pulses
    // (never waits), so a slow rank never stalls the dispatcher thread; the rank's own thread waits
    // on it with Monitor.Wait until its peer's next piece or an abort arrives.
    private readonly object _gate = new();
    private readonly Queue<CollectiveChunk>[] _inboxes;
    private string? _abortReason;

    private IActorRef?[] _peers;
    private long _sequence;
    private readonly PeerCollectives _collectives;

    private AkkaRemoteCommunicator(ActorSystem system, int rank, int size, string name)
    {
        Rank = rank;
        Size = size;
        _system = system;
        _peers = new IActorRef?[size];
        _inboxes = [.. Enumerable.Range(0, size).Select(_ => new Queue<CollectiveChunk>())];
        _receiver = system.ActorOf(Props.Create(() => new Receiver(this)), name);
        _collectives = new PeerCollectives(rank, size, Exchange);
    }

    /// <inheritdoc />
    public int Rank { get; }

    /// <inheritdoc />
    public int Size { get; }

    /// <summary>The receiver's full path with its system's address: what the other ranks resolve in <see cref="ConnectAsync"/>.</summary>
    public string Path => _receiver.Path.ToStringWithAddress(((ExtendedActorSystem)_system).Provider.DefaultAddress);

    /// <summary>Starts rank <paramref name="rank"/>'s receiver actor, named <paramref name="name"/>, in <paramref name="system"/>; then <see cref="ConnectAsync"/> it.</summary>
    public static AkkaRemoteCommunicator Create(ActorSystem system, int rank, int size, string name)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)rank, (uint)size, nameof(rank));
        return new AkkaRemoteCommunicator(system, rank, size, name);
    }

    /// <summary>
    /// Resolves every other rank's receiver from <paramref name="paths"/> (each rank's <see cref="Path"/>,
    /// by rank) and watches them: a peer whose receiver stops or whose node becomes unreachable aborts
    /// this rank's collectives instead of leaving them waiting. Wait for it before the first
    /// collective: the peers it resolves are read by the rank's thread without a lock.
    /// </summary>
    public async Task ConnectAsync(IReadOnlyList<string> paths, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count != Size)
        {
            throw new ArgumentException($"A group of {Size} ranks needs {Size} receiver paths, not {paths.Count}.", nameof(paths));
        }

        var peers = new IActorRef?[Size];
        for (int peer = 0; peer < Size; peer++)
        {
            peers[peer] = peer == Rank ? null : await _system.ActorSelection(paths[peer]).ResolveOne(timeout).ConfigureAwait(false);
        }

        _peers = peers;
        _receiver.Tell(new WatchPeers(peers));
    }

    /// <inheritdoc />
    public void AllReduceSum(ArrayView<float> data) => _collectives.AllReduceSum(data);

    /// <inheritdoc />
    public void AllGatherColumns(ArrayView<float> local, int rows, ReadOnlySpan<int> offsets, ArrayView<float> gathered, int totalWidth) =>
        _collectives.AllGatherColumns(local, rows, offsets, gathered, totalWidth);

    /// <inheritdoc />
    public void Broadcast(ArrayView<float> data, int root) => _collectives.Broadcast(data, root);

    /// <inheritdoc />
    public void Barrier() => _collectives.Barrier();

    /// <summary>Wakes this rank if it waits in a collective (and fails every later one) with <see cref="CommunicatorAbortedException"/>.</summary>
    public void Abort() => Fail(AbortedMessage);

    /// <summary>Stops the receiver: the other ranks' collectives abort, naming this rank.</summary>
    public void Dispose() => _system.Stop(_receiver);

    /// <summary>
    /// The <see cref="PeerExchange"/> of this transport: sends <paramref name="send"/>(peer) to every
    /// other rank and receives <paramref name="receive"/>(peer) from each (length 0: nothing). Tell
    /// never blocks, so all sends go first on this thread and no two ranks can wait on each other's sends.
    /// </summary>
    private unsafe void Exchange(Func<int, (nint Bytes, long Length)> send, Func<int, (nint Bytes, long Length)> receive)
    {
        long sequence = _sequence++;
        for (int peer = 0; peer < Size; peer++)
        {
            if (peer != Rank && send(peer) is (nint bytes, long length) && length > 0)
            {
                IActorRef target = _peers[peer] ?? throw new InvalidOperationException("The communicator is not connected: call ConnectAsync first.");
                long offset = 0;
                do
                {
                    int piece = (int)Math.Min(PieceBytes, length - offset);
                    // A copy per piece: the caller may change its buffer as soon as the call returns, while a
                    // local peer reads the piece later and a remote one is serialized later still.
                    byte[] payload = new ReadOnlySpan<byte>((byte*)bytes + offset, piece).ToArray();
                    target.Tell(new CollectiveChunk(sequence, Rank, offset, payload), _receiver);
                    offset += piece;
                }
                while (offset < length);
            }
        }

        for (int peer = 0; peer < Size; peer++)
        {
            if (peer != Rank && receive(peer) is (nint bytes, long length) && length > 0)
            {
                long offset = 0;
                do
                {
                    CollectiveChunk chunk = Take(peer);
                    // Pieces of one exchange arrive in order (Akka.Remote keeps the order of one sender's
                    // messages to one receiver); every piece holds bytes.
                    if (chunk.Sequence != sequence || chunk.Offset != offset || offset + chunk.Payload.Length > length || chunk.Payload.Length == 0)
                    {
                        Fail($"Tensor-parallel rank {peer} is out of step with rank {Rank}: it sent exchange {chunk.Sequence} at byte {chunk.Offset} ({chunk.Payload.Length} bytes) where exchange {sequence} at byte {offset} of {length} was due.");
                        throw new CommunicatorAbortedException(_abortReason!);
                    }

                    chunk.Payload.CopyTo(new Span<byte>((byte*)bytes + offset, chunk.Payload.Length));
                    offset += chunk.Payload.Length;
                }
                while (offset < length);
            }
        }
    }

    /// <summary>The next piece from <paramref name="peer"/>, waiting for it on this (the rank's own) thread.</summary>
    private CollectiveChunk Take(int peer)
    {
        lock (_gate)
        {
            while (true)
            {
                // An abort wins over pieces already queued: the group's results are void once any rank failed.
                if (_abortReason is not null)
                {
                    throw new CommunicatorAbortedException(_abortReason);
                }

                if (_inboxes[peer].TryDequeue(out CollectiveChunk? chunk))
                {
                    return chunk;
                }

                Monitor.Wait(_gate);
            }
        }
    }

    /// <summary>Called by the receiver actor: never waits beyond the short critical section.</summary>
    private void Deliver(CollectiveChunk chunk)
    {
        if ((uint)chunk.Source >= (uint)Size || chunk.Source == Rank)
        {
            return;
        }

        lock (_gate)
        {
            _inboxes[chunk.Source].Enqueue(chunk);
            Monitor.PulseAll(_gate);
        }
    }

    private void Fail(string reason)
    {
        lock (_gate)
        {
            // The first reason stays: a later one (the receiver stopping on dispose) would hide the cause.
            _abortReason ??= reason;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The peers to watch, sent to the receiver once they are resolved (a message, so only the actor's thread touches its watch list).</summary>
    private sealed record WatchPeers(IActorRef?[] Peers) : INoSerializationVerificationNeeded;

    /// <summary>
    /// Rank's mailbox: hands each piece to the communicator's blocked caller and turns a peer's
    /// Terminated (stopped, or its node unreachable) into an abort naming that rank.
    /// </summary>
    private sealed class Receiver(AkkaRemoteCommunicator owner) : UntypedActor
    {
        private IActorRef?[] _peers = [];

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case CollectiveChunk chunk:
                    owner.Deliver(chunk);
                    break;
                case WatchPeers watch:
                    _peers = watch.Peers;
                    foreach (IActorRef? peer in _peers)
                    {
                        if (peer is not null)
                        {
                            Context.Watch(peer);
                        }
                    }

                    break;
                case Terminated terminated:
                    int rank = Array.IndexOf(_peers, terminated.ActorRef);
                    owner.Fail($"Tensor-parallel rank {rank}'s receiver ({terminated.ActorRef.Path}) stopped or its node became unreachable during rank {owner.Rank}'s collectives.");
                    break;
                default:
                    Unhandled(message);
                    break;
            }
        }
    }
}
