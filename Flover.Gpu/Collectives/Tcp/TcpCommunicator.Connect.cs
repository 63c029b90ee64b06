using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Flover.Gpu.Collectives.Tcp;

/// <summary>Forming the mesh: every rank accepts the ranks above it and dials the ranks below it, then each pair shakes hands.</summary>
public sealed partial class TcpCommunicator
{
    private const uint Magic = 0x43544C46; // "FLTC" little-endian
    private const byte Version = 1;
    private const int HandshakeBytes = 13;

    /// <summary>
    /// Joins the mesh as <paramref name="rank"/> of <paramref name="endpoints"/>.Count ranks, rank r
    /// listening at <paramref name="endpoints"/>[r] (this rank through <paramref name="listener"/>).
    /// Returns once a connection to every other rank is up and has shaken hands (same protocol version
    /// and group size, the expected rank; with TLS, certificates checked both ways).
    /// </summary>
    /// <exception cref="FloverException">A peer cannot be reached in time, speaks another protocol or group size, or fails authentication (one line naming it).</exception>
    public static async Task<TcpCommunicator> ConnectAsync(TcpCommunicatorListener listener, int rank, IReadOnlyList<IPEndPoint> endpoints, TcpCommunicatorOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)rank, (uint)endpoints.Count, nameof(rank));
        options ??= new TcpCommunicatorOptions();
        if (options.Certificate is not null && options.TrustedRoot is null)
        {
            throw new ArgumentException("A certificate needs the trusted root that peers' certificates must chain to.", nameof(options));
        }

        int size = endpoints.Count;
        var peers = new Stream?[size];
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        limit.CancelAfter(options.ConnectTimeout);
        try
        {
            // Lower ranks accept, higher ranks dial: each pair connects exactly once, and nobody
            // waits on a rank that is itself waiting to be dialled.
            Task accepting = AcceptHigherRanksAsync(listener, rank, size, peers, options, limit.Token);
            for (int peer = 0; peer < rank; peer++)
            {
                peers[peer] = await DialAsync(endpoints[peer], rank, peer, size, options, limit.Token).ConfigureAwait(false);
            }

            await accepting.ConfigureAwait(false);
            return new TcpCommunicator(rank, peers);
        }
        catch (Exception exception) when (exception is OperationCanceledException && !cancellation.IsCancellationRequested)
        {
            Close(peers);
            throw new FloverException($"tensor-parallel rank {rank}: the mesh of {size} ranks did not form within {options.ConnectTimeout.TotalSeconds:0.#} s (connected: {string.Join(", ", Enumerable.Range(0, size).Where(r => r != rank && peers[r] is not null))}).", exception);
        }
        catch
        {
            Close(peers);
            throw;
        }
    }

    private static async Task AcceptHigherRanksAsync(TcpCommunicatorListener listener, int rank, int size, Stream?[] peers, TcpCommunicatorOptions options, CancellationToken cancellation)
    {
        for (int accepted = 0; accepted < size - rank - 1; accepted++)
        {
            TcpClient client = await listener.AcceptAsync(cancellation).ConfigureAwait(false);
            string remote = client.Client.RemoteEndPoint?.ToString() ?? "?";
            Stream stream = await SecureAsync(client, remote, server: true, options, cancellation).ConfigureAwait(false);
            try
            {
                int peer = await ReadHandshakeAsync(stream, remote, size, cancellation).ConfigureAwait(false);
                if (peer <= rank || peers[peer] is not null)
                {
                    throw new FloverException($"tensor-parallel peer at {remote} says it is rank {peer}, which rank {rank} does not accept (it accepts each higher rank once).");
                }

                await WriteHandshakeAsync(stream, rank, size, cancellation).ConfigureAwait(false);
                peers[peer] = stream;
            }
            catch
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    private static async Task<Stream> DialAsync(IPEndPoint endpoint, int rank, int peer, int size, TcpCommunicatorOptions options, CancellationToken cancellation)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(endpoint, cancellation).ConfigureAwait(false);
        }
        catch (SocketException exception)
        {
            client.Dispose();
            throw new FloverException($"tensor-parallel rank {rank} cannot reach rank {peer} at {endpoint}: {exception.Message}", exception);
        }

        Stream stream = await SecureAsync(client, endpoint.ToString(), server: false, options, cancellation).ConfigureAwait(false);
        try
        {
            await WriteHandshakeAsync(stream, rank, size, cancellation).ConfigureAwait(false);
            int answered = await ReadHandshakeAsync(stream, endpoint.ToString(), size, cancellation).ConfigureAwait(false);
            return answered == peer
                ? stream
                : throw new FloverException($"tensor-parallel peer at {endpoint} answered as rank {answered}; rank {peer} was expected there.");
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<Stream> SecureAsync(TcpClient client, string remote, bool server, TcpCommunicatorOptions options, CancellationToken cancellation)
    {
        client.NoDelay = true;
        // Room for an inline send to land whole without the peer reading (see InlineSendBytes).
        client.SendBufferSize = SocketBufferBytes;
        client.ReceiveBufferSize = SocketBufferBytes;
        NetworkStream network = client.GetStream();
        if (options.Certificate is not { } certificate)
        {
            return network;
        }

        var tls = new SslStream(network, leaveInnerStreamOpen: false, (_, presented, _, _) => Trusted(presented, options.TrustedRoot!));
        try
        {
            if (server)
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate, ClientCertificateRequired = true }, cancellation).ConfigureAwait(false);
            }
            else
            {
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "flover-tensor-parallel", ClientCertificates = [certificate] }, cancellation).ConfigureAwait(false);
            }

            return tls;
        }
        catch (Exception exception) when (exception is AuthenticationException or IOException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new FloverException($"tensor-parallel peer at {remote} failed mutual TLS authentication: {exception.Message}", exception);
        }
    }

    /// <summary>A peer's certificate is trusted when it is the root itself or chains to it alone (never the machine's store).</summary>
    private static bool Trusted(X509Certificate? presented, X509Certificate2 root)
    {
        if (presented is null)
        {
            return false;
        }

        using var certificate = new X509Certificate2(presented);
        if (certificate.Thumbprint == root.Thumbprint)
        {
            return true;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static async Task WriteHandshakeAsync(Stream stream, int rank, int size, CancellationToken cancellation)
    {
        byte[] hello = new byte[HandshakeBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(hello, Magic);
        hello[4] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(5), size);
        BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(9), rank);
        await stream.WriteAsync(hello, cancellation).ConfigureAwait(false);
        await stream.FlushAsync(cancellation).ConfigureAwait(false);
    }

    private static async Task<int> ReadHandshakeAsync(Stream stream, string remote, int size, CancellationToken cancellation)
    {
        byte[] hello = new byte[HandshakeBytes];
        try
        {
            await stream.ReadExactlyAsync(hello, cancellation).ConfigureAwait(false);
        }
        catch (EndOfStreamException exception)
        {
            throw new FloverException($"tensor-parallel peer at {remote} closed the connection during the handshake.", exception);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(hello) != Magic)
        {
            throw new FloverException($"tensor-parallel peer at {remote} does not speak Flover's collective protocol.");
        }

        if (hello[4] != Version)
        {
            throw new FloverException($"tensor-parallel peer at {remote} speaks collective protocol version {hello[4]}, this node {Version}.");
        }

        int peerSize = BinaryPrimitives.ReadInt32LittleEndian(hello.AsSpan(5));
        int peer = BinaryPrimitives.ReadInt32LittleEndian(hello.AsSpan(9));
        if (peerSize != size)
        {
            throw new FloverException($"tensor-parallel peer at {remote} is in a group of {peerSize} ranks, this node in one of {size}.");
        }

        return (uint)peer < (uint)size ? peer : throw new FloverException($"tensor-parallel peer at {remote} says it is rank {peer} of {size}.");
    }

    private static void Close(Stream?[] peers)
    {
        foreach (Stream? peer in peers)
        {
            peer?.Dispose();
        }
    }
}
