using System.Net;
using System.Net.Sockets;

namespace Flover.Gpu.Collectives.Tcp;

/// <summary>
/// A rank's listening socket, bound before the mesh forms so its endpoint (with the port the system
/// chose for port 0) can be handed to the other ranks first, through the cluster.
/// </summary>
public sealed class TcpCommunicatorListener : IDisposable
{
    private readonly TcpListener _listener;

    /// <summary>Binds <paramref name="endpoint"/> (port 0 picks a free one) and starts listening.</summary>
    /// <exception cref="FloverException">The address cannot be bound (one line naming it).</exception>
    public TcpCommunicatorListener(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _listener = new TcpListener(endpoint);
        try
        {
            _listener.Start();
        }
        catch (SocketException exception)
        {
            throw new FloverException($"cannot listen for tensor-parallel peers on {endpoint}: {exception.Message}", exception);
        }

        Endpoint = (IPEndPoint)_listener.LocalEndpoint;
    }

    /// <summary>The bound endpoint, to give the other ranks.</summary>
    public IPEndPoint Endpoint { get; }

    internal Task<TcpClient> AcceptAsync(CancellationToken cancellation) => _listener.AcceptTcpClientAsync(cancellation).AsTask();

    /// <summary>Stops listening (connections already made stay open).</summary>
    public void Dispose() => _listener.Stop();
}
