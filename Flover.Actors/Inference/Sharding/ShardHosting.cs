using System.Net;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Collectives.Tcp;

namespace Flover.Actors.Inference.Sharding;

/// <summary>
/// <c>flover.parallel.*</c> as a node runs tensor parallelism across nodes: whether it hosts ranks
/// (<see cref="ShardHostActor"/>), how they listen and authenticate, and where its own engine's
/// ranks go (<see cref="ShardPlacement"/>).
/// </summary>
internal static class ShardHosting
{
    /// <summary>Whether a node with <paramref name="settings"/> starts a shard host: a remote or cluster node splitting its model (tensor &gt; 1) with room for a rank.</summary>
    public static bool Hosts(FloverSettings settings, bool remote) =>
        remote && settings.Parallel.Tensor > 1 && settings.Parallel.HostCapacity > 0;

    /// <summary>
    /// The placement of this node's group over <c>flover.parallel.nodes</c>, or null to keep every
    /// shard in this process.
    /// </summary>
    /// <exception cref="FloverException">A node is not an Akka address, or the group has one shard (one line naming it).</exception>
    public static ShardPlacement? Placement(ParallelSettings parallel)
    {
        ArgumentNullException.ThrowIfNull(parallel);
        if (parallel.Nodes.Count == 0)
        {
            return null;
        }

        if (parallel.Tensor < 2)
        {
            throw new FloverException($"flover.parallel.nodes names {parallel.Nodes.Count} node(s) but flover.parallel.tensor = {parallel.Tensor}: a group across nodes needs at least 2 shards.");
        }

        var nodes = new Address[parallel.Nodes.Count];
        for (int i = 0; i < nodes.Length; i++)
        {
            try
            {
                nodes[i] = Address.Parse(parallel.Nodes[i]);
            }
            catch (Exception exception) when (exception is UriFormatException or ArgumentException)
            {
                throw new FloverException($"flover.parallel.nodes: '{parallel.Nodes[i]}' is not an Akka address (akka.tcp://flover@HOST:PORT): {exception.Message}", exception);
            }
        }

        try
        {
            return new ShardPlacement(nodes) { Timeout = parallel.PlacementTimeout };
        }
        catch (ArgumentException exception)
        {
            throw new FloverException($"flover.parallel.nodes: {exception.Message}", exception);
        }
    }

    /// <summary>
    /// The host's options: ranks listen on every interface and are dialled at the node's Akka host
    /// name; with <c>akka.remote.dot-netty.tcp.enable-ssl</c> their connections are mutual TLS with
    /// the cluster's certificate (<c>ssl.certificate.path</c>), which every peer must present.
    /// </summary>
    /// <exception cref="FloverException">TLS is on but the certificate cannot be read.</exception>
    public static ShardHostOptions Options(Config config, ShardedModel model, Address self)
    {
        ArgumentNullException.ThrowIfNull(config);
        const string Ssl = "akka.remote.dot-netty.tcp.ssl";
        ParallelSettings parallel = FloverSettings.From(config).Parallel;
        // The mesh may take as long to form as a placement round (the peers dial once they are told).
        var options = new ShardHostOptions(model, IPAddress.Any, self.Host)
        {
            Capacity = parallel.HostCapacity,
            Tcp = new TcpCommunicatorOptions { ConnectTimeout = parallel.PlacementTimeout },
        };
        if (!config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"))
        {
            return options;
        }

        string path = config.GetString($"{Ssl}.certificate.path") ?? string.Empty;
        try
        {
            X509Certificate2 certificate = X509CertificateLoader.LoadPkcs12FromFile(path, config.GetString($"{Ssl}.certificate.password"));
            // The cluster's one certificate is the root every rank's must be (TcpCommunicator accepts the root itself).
            return options with { Tcp = options.Tcp with { Certificate = certificate, TrustedRoot = certificate } };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new FloverException($"tensor-parallel ranks across nodes use the cluster's certificate, but {Ssl}.certificate.path = '{path}' cannot be read (a PKCS#12 file with its private key): {e.Message}");
        }
    }
}
