using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Event;
using Flover.Actors.Cluster;
using Flover.Actors.Hosting;
using Flover.Configuration;

namespace Flover.Actors.Tests.Cluster;

/// <summary>Mutual TLS with one pinned cluster certificate (<see cref="ClusterTls"/>): nodes on loopback with it join, a node with another certificate does not.</summary>
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
        seed.EventStream.Subscribe(seed.ActorOf(Props.Create(() => new ErrorWatch(handshakeFailed))), typeof(Error));
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

    public void Dispose() => Directory.Delete(_folder, recursive: true);

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
        public ErrorWatch(TaskCompletionSource<string> failed) =>
            Receive<Error>(e => e.Message?.ToString() is { } message && message.Contains("pinning failed", StringComparison.Ordinal), e => failed.TrySetResult(e.Message.ToString()!));
    }
}
