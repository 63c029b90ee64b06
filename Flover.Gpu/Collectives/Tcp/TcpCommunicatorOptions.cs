using System.Security.Cryptography.X509Certificates;

namespace Flover.Gpu.Collectives.Tcp;

/// <summary>How the ranks of a <see cref="TcpCommunicator"/> mesh find and trust each other.</summary>
/// <param name="Certificate">
/// This rank's certificate with its private key: when set, every connection is TLS with mutual
/// authentication (each side presents its certificate and checks the other's), so a process without
/// a certificate the group trusts cannot join. Null: plain TCP, for a trusted network only.
/// </param>
/// <param name="TrustedRoot">
/// The certificate a peer's must be, or be issued by (the cluster's CA); required with
/// <paramref name="Certificate"/>. Chains are built against it alone, not the machine's store.
/// </param>
public sealed record TcpCommunicatorOptions(X509Certificate2? Certificate = null, X509Certificate2? TrustedRoot = null)
{
    /// <summary>How long setting up the mesh may take before it fails (every rank must be listening by then).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
