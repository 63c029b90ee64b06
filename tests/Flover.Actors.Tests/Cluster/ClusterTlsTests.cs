using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Event;
using Flover.Actors.Cluster;
using Flover.Actors.Hosting;
using Flover.Configuration;

namespace Flover.Actors.Tests.Cluster;

/// <summary>Mutual TLS (<see cref="ClusterTls"/>): with one pinned cluster certificate, or per-node certificates from a private CA; nodes on loopback with a good certificate join, others fail the handshake.</summary>
public sealed class ClusterTlsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("flover-tls-").FullName;

    [Fact]
    public void Without_tls_or_without_pinning_akka_reads_its_own_settings()
    {
        Assert.Null(ClusterTls.Setup(Load("akka.remote.dot-netty.tcp.enable-ssl = off", "flover.cluster.tls-pin-certificate = on")));
        Assert.Null(ClusterTls.Setup(Load("akka.remote.dot-netty.tcp.enable-ssl = on")));
        Assert.Contains("cannot read the certificate", Assert.Throws<Gpu.FloverException>(() => ClusterTls.Setup(Tls(Path.Combine(_folder, "missing.pfx")))).Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Nodes_with_the_cluster_certificate_join_and_a_node_with_another_certificate_cannot()
    {
        string cluster = Certificate("flover-cluster");
        string other = Certificate("intruder");
        using ActorSystem seed = Node(cluster);
        var handshakeFailed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        seed.EventStream.Subscribe(seed.ActorOf(Props.Create(() => new ErrorWatch(handshakeFailed, "pinning failed"))), typeof(Error));
        var cluster0 = Akka.Cluster.Cluster.Get(seed);
        await UpAsync(seed, cluster0.SelfAddress);
        using ActorSystem member = Node(cluster);
        await UpAsync(member, cluster0.SelfAddress);

        using ActorSystem intruder = Node(other);
        Akka.Cluster.Cluster.Get(intruder).Join(cluster0.SelfAddress);

        // The seed's TLS layer refuses the intruder's certificate: Akka's pinning validator logs it (bounded wait for that line).
        string failure = await handshakeFailed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("Certificate pinning failed", failure, StringComparison.Ordinal);
        Assert.StartsWith("akka.ssl.tcp://", cluster0.SelfAddress.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, cluster0.State.Members.Count);
        Assert.DoesNotContain(cluster0.State.Members, m => m.Address.Equals(Akka.Cluster.Cluster.Get(intruder).SelfAddress));
    }

    [Fact]
    public void A_private_CA_accepts_the_certificates_it_issued_and_refuses_others_and_missing_names()
    {
        (string caFile, X509Certificate2 ca) = Authority("flover-ca");
        (_, X509Certificate2 otherCa) = Authority("other-ca");
        var authority = ClusterCertificateAuthority.Load(caFile);
        using X509Certificate2 node1 = X509CertificateLoader.LoadPkcs12FromFile(Issued(ca, "node-1", "flover-node"), "test");
        using X509Certificate2 stranger = X509CertificateLoader.LoadPkcs12FromFile(Issued(otherCa, "node-9", "flover-node"), "test");
        using X509Certificate2 selfSigned = X509CertificateLoader.LoadPkcs12FromFile(Certificate("intruder"), "test");

        Assert.Equal(ca.Thumbprint, authority.Root.Thumbprint);
        Assert.Null(authority.Refusal(node1, peerName: null));
        Assert.Null(authority.Refusal(node1, "flover-node"));
        Assert.Contains("does not carry the name 'flover-frontend'", authority.Refusal(node1, "flover-frontend"), StringComparison.Ordinal);
        Assert.Contains("does not chain to the cluster CA 'CN=flover-ca'", authority.Refusal(stranger, null), StringComparison.Ordinal);
        Assert.Contains("does not chain to the cluster CA", authority.Refusal(selfSigned, null), StringComparison.Ordinal);
        Assert.Equal("it presented no certificate", authority.Refusal(null, null));
        Assert.False(authority.Validator(null)(stranger, null!, "akka.ssl.tcp://flover@127.0.0.1:1", System.Net.Security.SslPolicyErrors.None, null!));
        Assert.True(authority.Validator("flover-node")(node1, null!, "akka.ssl.tcp://flover@127.0.0.1:1", System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors, null!));
    }

    [Fact]
    public void The_CA_mode_names_what_is_wrong_with_its_settings()
    {
        string pfx = Certificate("node");
        Assert.Contains("both set", Assert.Throws<Gpu.FloverException>(() => ClusterTls.Setup(Ca(pfx, "ca.pem", "flover.cluster.tls-pin-certificate = on"))).Message, StringComparison.Ordinal);
        Assert.Contains("needs flover.cluster.tls-ca-certificate", Assert.Throws<Gpu.FloverException>(() => ClusterTls.Setup(Load("flover.cluster.tls-peer-name = \"flover-node\""))).Message, StringComparison.Ordinal);
        Assert.Contains("cannot read the CA certificate", Assert.Throws<Gpu.FloverException>(() => ClusterTls.Setup(Ca(pfx, Path.Combine(_folder, "missing.pem")))).Message, StringComparison.Ordinal);
        Assert.Null(ClusterTls.Setup(Load("akka.remote.dot-netty.tcp.enable-ssl = off", "flover.cluster.tls-ca-certificate = \"ca.pem\"")));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Nodes_with_their_own_certificates_from_the_cluster_CA_join_and_a_node_from_another_CA_cannot()
    {
        (string caFile, X509Certificate2 ca) = Authority("flover-ca");
        (_, X509Certificate2 otherCa) = Authority("other-ca");
        using ActorSystem seed = CaNode(Issued(ca, "node-1", "flover-node"), caFile);
        var handshakeFailed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        seed.EventStream.Subscribe(seed.ActorOf(Props.Create(() => new ErrorWatch(handshakeFailed, "Refusing TLS peer"))), typeof(Error));
        var cluster0 = Akka.Cluster.Cluster.Get(seed);
        await UpAsync(seed, cluster0.SelfAddress);
        using ActorSystem member = CaNode(Issued(ca, "node-2", "flover-node"), caFile);
        await UpAsync(member, cluster0.SelfAddress);

        // Same name, same CA's name even: only the issuing key differs.
        using ActorSystem intruder = CaNode(Issued(otherCa, "node-3", "flover-node"), caFile);
        Akka.Cluster.Cluster.Get(intruder).Join(cluster0.SelfAddress);

        string failure = await handshakeFailed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("does not chain to the cluster CA 'CN=flover-ca'", failure, StringComparison.Ordinal);
        Assert.Contains("CN=node-3", failure, StringComparison.Ordinal);
        Assert.Equal(2, cluster0.State.Members.Count);
        Assert.DoesNotContain(cluster0.State.Members, m => m.Address.Equals(Akka.Cluster.Cluster.Get(intruder).SelfAddress));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private Config Ca(string pfx, string caFile, params string[] more) => Load(
        [
            "akka.remote.dot-netty.tcp.enable-ssl = on", $"akka.remote.dot-netty.tcp.ssl.certificate.path = \"{pfx}\"",
            "akka.remote.dot-netty.tcp.ssl.certificate.password = \"test\"", $"flover.cluster.tls-ca-certificate = \"{Path.Combine(_folder, caFile)}\"", .. more,
        ]);

    /// <summary>A node with its own certificate <paramref name="pfx"/>, trusting the CA in <paramref name="caFile"/> and requiring the name flover-node.</summary>
    private ActorSystem CaNode(string pfx, string caFile)
    {
        Config config = Ca(pfx, caFile, "flover.cluster.tls-peer-name = \"flover-node\"");
        return ActorSystem.Create("flover", BootstrapSetup.Create().WithConfig(AkkaConfiguration.From(config)).And(ClusterTls.Setup(config)!));
    }

    /// <summary>A CA (its certificate as a PEM file, as openssl writes it, and the certificate with its key to issue others). Every CA here is called CN=flover-ca or as named.</summary>
    private (string File, X509Certificate2 Certificate) Authority(string name)
    {
        using var rsa = RSA.Create(2048);
        // Two CAs may share a name: what a peer is checked against is the key that signed it.
        var request = new CertificateRequest($"CN={(name == "other-ca" ? "flover-ca" : name)}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        X509Certificate2 ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        string path = Path.Combine(_folder, name + ".pem");
        File.WriteAllText(path, ca.ExportCertificatePem());
        return (path, ca);
    }

    /// <summary>A node certificate issued by <paramref name="ca"/> for client and server authentication, carrying the DNS name <paramref name="dnsName"/>, as a PKCS#12 file with password "test".</summary>
    private string Issued(X509Certificate2 ca, string subject, string dnsName)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        request.CertificateExtensions.Add(names.Build());
        byte[] serial = RandomNumberGenerator.GetBytes(8);
        using X509Certificate2 issued = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), serial);
        using X509Certificate2 withKey = issued.CopyWithPrivateKey(rsa);
        string path = Path.Combine(_folder, subject + ".pfx");
        File.WriteAllBytes(path, withKey.Export(X509ContentType.Pfx, "test"));
        return path;
    }

    private static Config Load(params string[] overrides) => FloverConfiguration.Load(new ConfigurationSources
    {
        Overrides = ["akka.loglevel = WARNING", "akka.actor.provider = cluster", "akka.remote.dot-netty.tcp.hostname = \"127.0.0.1\"", "akka.remote.dot-netty.tcp.port = 0", .. overrides],
        Environment = _ => null,
        WorkingDirectory = AppContext.BaseDirectory,
    });

    private static Config Tls(string path) => Load(
        "akka.remote.dot-netty.tcp.enable-ssl = on", $"akka.remote.dot-netty.tcp.ssl.certificate.path = \"{path}\"",
        "akka.remote.dot-netty.tcp.ssl.certificate.password = \"test\"", "flover.cluster.tls-pin-certificate = on");

    /// <summary>A node whose TLS setup is what Flover builds from its configuration (as EngineHost and ServeApp do).</summary>
    private static ActorSystem Node(string certificate)
    {
        Config config = Tls(certificate);
        return ActorSystem.Create("flover", BootstrapSetup.Create().WithConfig(AkkaConfiguration.From(config)).And(ClusterTls.Setup(config)!));
    }

    private static Task UpAsync(ActorSystem node, Address seed)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Akka.Cluster.Cluster.Get(node).RegisterOnMemberUp(() => up.TrySetResult());
        Akka.Cluster.Cluster.Get(node).Join(seed);
        return up.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>A self-signed certificate for client and server authentication, as a PKCS#12 file with password "test".</summary>
    private string Certificate(string name)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string path = Path.Combine(_folder, name + ".pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, "test"));
        return path;
    }

    private sealed class ErrorWatch : ReceiveActor
    {
        public ErrorWatch(TaskCompletionSource<string> failed, string needle) =>
            Receive<Error>(e => e.Message?.ToString() is { } message && message.Contains(needle, StringComparison.Ordinal), e => failed.TrySetResult(e.Message.ToString()!));
    }
}
