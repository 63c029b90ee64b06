using System.Security.Cryptography.X509Certificates;
using Akka.Remote.Transport.DotNetty;
using FloverConfig = Flover.Configuration.Config;

namespace Flover.Actors.Cluster;

/// <summary>
/// Mutual TLS between cluster nodes with one cluster certificate (<c>flover.cluster.tls-pin-certificate</c>):
/// Akka.Remote's HOCON can validate a peer's certificate against the system's CA store or not at
/// all, so a cluster that shares one (self-signed) certificate file needs a
/// <see cref="DotNettySslSetup"/>: Flover loads the file named by
/// <c>akka.remote.dot-netty.tcp.ssl.certificate.path</c> / <c>password</c> and accepts a peer only
/// when it presents that very certificate (pinned by thumbprint), both ways
/// (<c>require-mutual-authentication</c>, Akka's default). A node without the certificate fails the
/// TLS handshake and never reaches the cluster.
/// </summary>
internal static class ClusterTls
{
    /// <summary>The setup to hand Akka, or null when TLS is off or the certificate is not pinned (Akka then reads its HOCON as usual).</summary>
    /// <exception cref="Gpu.FloverException">Pinning is on but the certificate file cannot be read.</exception>
    public static DotNettySslSetup? Setup(FloverConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        const string Ssl = "akka.remote.dot-netty.tcp.ssl";
        if (!config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl") || !config.GetBoolean("flover.cluster.tls-pin-certificate"))
        {
            return null;
        }

        string path = config.GetString($"{Ssl}.certificate.path") ?? string.Empty;
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, config.GetString($"{Ssl}.certificate.password"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new Gpu.FloverException($"flover.cluster.tls-pin-certificate: cannot read the certificate {Ssl}.certificate.path = '{path}' (a PKCS#12 file with its private key; {Ssl}.certificate.password): {e.Message}");
        }

        return new DotNettySslSetup(
            certificate,
            suppressValidation: false,
            requireMutualAuthentication: config.GetBoolean($"{Ssl}.require-mutual-authentication", @default: true),
            validateCertificateHostname: false,
            CertificateValidation.PinnedCertificate(certificate.Thumbprint));
    }
}
