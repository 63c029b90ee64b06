using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace Flover.Actors.Cluster;

/// <summary>
/// A cluster's private CA (<c>flover.cluster.tls-ca-certificate</c>): each node has a certificate
/// of its own, issued by the CA, and a peer is accepted when its certificate chains to this root
/// alone. The chain is built with the root as the only trust anchor (never the machine's store, so
/// a certificate from a public CA is refused too), revocation is not checked (a private CA for a
/// cluster publishes no CRL; replace the CA to revoke), and the usual time validity applies. The
/// same rule as the TCP collectives' <c>TcpCommunicator</c>.
/// </summary>
internal sealed class ClusterCertificateAuthority
{
    private readonly X509Certificate2 _root;

    private ClusterCertificateAuthority(X509Certificate2 root) => _root = root;

    /// <summary>The CA's certificate.</summary>
    public X509Certificate2 Root => _root;

    /// <summary>Reads the CA's certificate (PEM or DER, without its private key) from <paramref name="path"/>.</summary>
    /// <exception cref="Gpu.FloverException">The file cannot be read as a certificate.</exception>
    public static ClusterCertificateAuthority Load(string path)
    {
        try
        {
            return new ClusterCertificateAuthority(X509CertificateLoader.LoadCertificateFromFile(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new Gpu.FloverException($"flover.cluster.tls-ca-certificate: cannot read the CA certificate '{path}' (an X.509 certificate, PEM or DER): {e.Message}");
        }
    }

    /// <summary>
    /// Why <paramref name="presented"/> is refused, or null when it chains to the CA (and, with
    /// <paramref name="peerName"/>, carries that name: a DNS or IP subject alternative name, or the
    /// common name of a certificate without one, as <see cref="X509Certificate2.MatchesHostname"/> reads them).
    /// </summary>
    public string? Refusal(X509Certificate? presented, string? peerName)
    {
        if (presented is null)
        {
            return "it presented no certificate";
        }

        using var certificate = new X509Certificate2(presented);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (!chain.Build(certificate))
        {
            string status = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
            return $"its certificate '{certificate.Subject}' (issuer '{certificate.Issuer}') does not chain to the cluster CA '{_root.Subject}' ({_root.Thumbprint}): {status}";
        }

        if (peerName is not null && !certificate.MatchesHostname(peerName))
        {
            return $"its certificate '{certificate.Subject}' chains to the cluster CA but does not carry the name '{peerName}' (flover.cluster.tls-peer-name)";
        }

        return null;
    }

    /// <summary>The TLS validator Akka calls for each peer, on both sides of a handshake: it logs why it refuses one.</summary>
    public CertificateValidationCallback Validator(string? peerName) => (certificate, _, peer, _, log) =>
    {
        if (Refusal(certificate, peerName) is not { } why)
        {
            return true;
        }

        log?.Error("Refusing TLS peer {0}: {1}.", peer, why);
        return false;
    };
}
