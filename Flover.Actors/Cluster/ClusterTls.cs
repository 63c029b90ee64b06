using System.Security.Cryptography.X509Certificates;
using Akka.Remote.Transport.DotNetty;
using FloverConfig = Flover.Configuration.Config;

namespace Flover.Actors.Cluster;

/// <summary>
/// Mutual TLS between cluster nodes that Akka.Remote's HOCON cannot express (it validates a peer's
/// certificate against the system's CA store, or not at all), handed to Akka as a
/// <see cref="DotNettySslSetup"/>. Flover loads the node's certificate from
/// <c>akka.remote.dot-netty.tcp.ssl.certificate.path</c> / <c>password</c> and accepts a peer,
/// both ways (<c>require-mutual-authentication</c>, Akka's default), when:
/// <list type="bullet">
/// <item><c>flover.cluster.tls-pin-certificate = on</c>: it presents that very certificate (one
/// certificate shared by the cluster, pinned by thumbprint);</item>
/// <item><c>flover.cluster.tls-ca-certificate = FILE</c>: its certificate chains to that CA alone
/// (per-node certificates from a private CA, <see cref="ClusterCertificateAuthority"/>), and carries
/// <c>flover.cluster.tls-peer-name</c> when that is set.</item>
/// </list>
/// A node without such a certificate fails the TLS handshake and never reaches the cluster.
/// </summary>
internal static class ClusterTls
{
    private const string Ssl = "akka.remote.dot-netty.tcp.ssl";

    /// <summary>The setup to hand Akka, or null when TLS is off or neither mode is set (Akka then reads its HOCON as usual).</summary>
    /// <exception cref="Gpu.FloverException">Both modes are set, a peer name without a CA, or a certificate file cannot be read.</exception>
    public static DotNettySslSetup? Setup(FloverConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        bool pin = config.GetBoolean("flover.cluster.tls-pin-certificate");
        string caPath = config.GetString("flover.cluster.tls-ca-certificate") ?? string.Empty;
        string peerName = config.GetString("flover.cluster.tls-peer-name") ?? string.Empty;
        if (pin && caPath.Length > 0)
        {
            throw new Gpu.FloverException($"flover.cluster.tls-pin-certificate = on and flover.cluster.tls-ca-certificate = '{caPath}' are both set: pin one shared certificate or trust a CA, not both.");
        }

        if (peerName.Length > 0 && caPath.Length == 0)
        {
            throw new Gpu.FloverException($"flover.cluster.tls-peer-name = '{peerName}' needs flover.cluster.tls-ca-certificate (the name is checked on certificates that chain to that CA).");
        }

        if (!config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl") || (!pin && caPath.Length == 0))
        {
            return null;
        }

        X509Certificate2 certificate = NodeCertificate(config, pin ? "flover.cluster.tls-pin-certificate" : "flover.cluster.tls-ca-certificate");
        CertificateValidationCallback validator = pin
            ? CertificateValidation.PinnedCertificate(certificate.Thumbprint)
            : ClusterCertificateAuthority.Load(caPath).Validator(peerName.Length > 0 ? peerName : null);
        return new DotNettySslSetup(
            certificate,
            suppressValidation: false,
            requireMutualAuthentication: config.GetBoolean($"{Ssl}.require-mutual-authentication", @default: true),
            validateCertificateHostname: false,
            validator);
    }

    private static X509Certificate2 NodeCertificate(FloverConfig config, string mode)
    {
        string path = config.GetString($"{Ssl}.certificate.path") ?? string.Empty;
        try
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, config.GetString($"{Ssl}.certificate.password"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new Gpu.FloverException($"{mode}: cannot read the certificate {Ssl}.certificate.path = '{path}' (a PKCS#12 file with its private key; {Ssl}.certificate.password): {e.Message}");
        }
    }
}
