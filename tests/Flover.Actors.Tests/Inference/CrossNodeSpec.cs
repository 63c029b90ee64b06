using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tests.Models;
using Xunit.Abstractions;
using AkkaConfig = Akka.Configuration.Config;
using ConfigurationFactory = Akka.Configuration.ConfigurationFactory;
using FloverConfig = Flover.Configuration.Config;

namespace Flover.Actors.Tests.Inference;

/// <summary>
/// What the specs of tensor parallelism across nodes share: the test's system is rank 0's node
/// (where the shards are driven) and each further node is an ActorSystem of its own in this process,
/// joined over real Akka.Remote on 127.0.0.1, with its shard host; the ranks meet over TCP
/// collectives. A tiny model of 12 heads (2 and 3 ranks divide them; a vocabulary of 301 splits unevenly).
/// </summary>
public abstract class CrossNodeSpec : TestKit, IDisposable
{
    protected const int Slots = 4;
    protected static readonly Gpt2Config Config = TinyGpt2.Config(embedding: 48, heads: 12, vocabulary: 301);
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("flover-xtp-");

    protected CrossNodeSpec(ITestOutputHelper output)
        : base(Node, output: output)
    {
    }

    /// <summary>A node: the remote provider on 127.0.0.1 with a free port, over the actor specs' configuration (every message serialized).</summary>
    internal static AkkaConfig Node { get; } = ConfigurationFactory.ParseString("""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        """).WithFallback(AkkaTestConfig.Default);

    /// <summary>The model's weights, shared by every node (each loads its own rank from them).</summary>
    protected NativeModelWeights Weights { get; } = TinyGpt2.Weights(Config, TensorDType.F32, seed: 21);

    /// <summary>The nodes besides the test's system, in the order started.</summary>
    protected List<ActorSystem> Nodes { get; } = [];

    public new void Dispose()
    {
        Task.WaitAll([.. Nodes.Select(node => node.Terminate())], TimeSpan.FromSeconds(30));
        Weights.Dispose();
        _folder.Delete(recursive: true);
        base.Dispose();
    }

    protected TestProbe CreateProbeFor(IActorRef engine, int[] prompt, SamplingParameters sampling)
    {
        TestProbe probe = CreateTestProbe();
        engine.Tell(new Generate(prompt, sampling), probe);
        return probe;
    }

    /// <summary>Probes the engine until <paramref name="condition"/> holds (the probes spaced by 20 ms), at most 30 s.</summary>
    protected EngineStatus AwaitStatus(IActorRef engine, Func<EngineStatus, bool> condition)
    {
        TestProbe probe = CreateTestProbe();
        DateTime giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            engine.Tell(ProbeEngine.Instance, probe);
            EngineStatus status = probe.ExpectMsg<EngineStatus>(TimeSpan.FromSeconds(10));
            if (condition(status))
            {
                return status;
            }

            Assert.True(DateTime.UtcNow < giveUp, $"the engine never reached the expected state; last status: {status}");
            probe.ExpectNoMsg(TimeSpan.FromMilliseconds(20));
        }
    }

    protected static (List<int> Tokens, Completed Completed) Collect(TestProbe from)
    {
        var tokens = new List<int>();
        object message;
        while ((message = from.ReceiveOne(TimeSpan.FromSeconds(60))!) is Token token)
        {
            tokens.Add(token.TokenId);
        }

        return (tokens, Assert.IsType<Completed>(message));
    }

    /// <summary>A group of <paramref name="size"/> shards, on the CPU engine or on <paramref name="device"/> (each shard opening an accelerator of its own).</summary>
    protected ShardedModel Shards(int size, AcceleratorKind device = AcceleratorKind.Cpu) =>
        EngineSetup.Shards(new EngineOptions(size, TensorParallel: size) { Device = new DeviceSpec(device) }, Weights, new Gpt2ModelOptions(Slots));

    protected void Host(ActorSystem node, int size, AcceleratorKind device = AcceleratorKind.Cpu) =>
        node.ActorOf(ShardHostActor.Props(new ShardHostOptions(Shards(size, device), IPAddress.Loopback)), ShardHostActor.Name);

    protected Address StartNode(int size, AcceleratorKind device = AcceleratorKind.Cpu) => StartNode(new ShardHostOptions(Shards(size, device), IPAddress.Loopback));

    protected Address StartNode(ShardHostOptions host)
    {
        ActorSystem node = ActorSystem.Create($"node{Nodes.Count + 1}", Node);
        Nodes.Add(node);
        node.ActorOf(ShardHostActor.Props(host), ShardHostActor.Name);
        return ((ExtendedActorSystem)node).Provider.DefaultAddress;
    }

    /// <summary>A host's options as a node with TLS on reads them from its configuration (<c>ShardHosting.Options</c>), over loopback.</summary>
    protected ShardHostOptions TlsHost(int size, string certificate, int capacity = 1)
    {
        FloverConfig config = FloverConfiguration.Load(new ConfigurationSources
        {
            Overrides =
            [
                "akka.remote.dot-netty.tcp.enable-ssl = on",
                $"akka.remote.dot-netty.tcp.ssl.certificate.path = \"{certificate}\"",
                "akka.remote.dot-netty.tcp.ssl.certificate.password = secret",
                $"flover.parallel.host-capacity = {capacity}",
            ],
            Environment = _ => null,
            WorkingDirectory = AppContext.BaseDirectory,
        });
        ShardHostOptions options = ShardHosting.Options(config, Shards(size), Address.Parse("akka.tcp://flover@127.0.0.1:1"));
        Assert.NotNull(options.Tcp.Certificate);
        return options with { ListenAddress = IPAddress.Loopback };
    }

    /// <summary>A self-signed certificate with its key in a PKCS#12 file (password "secret"), deleted with the test's temporary folder.</summary>
    protected string Certificate(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 certificate = new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string path = Path.Combine(_folder.FullName, $"{subject[3..]}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, "secret"));
        return path;
    }

}
