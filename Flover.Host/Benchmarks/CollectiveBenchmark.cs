using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Configuration;
using Flover.Actors.Hosting;
using Flover.Actors.Inference.Sharding.Collectives;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Collectives;
using Flover.Gpu.Collectives.Tcp;

namespace Flover.Host.Benchmarks;

/// <summary>One data path's all-reduce of one size: the median time of a call on rank 0 and the algorithm bandwidth (payload bytes per second).</summary>
internal sealed record CollectiveTiming(string Path, int Ranks, int Elements, double MedianMicroseconds, double MinMicroseconds, double GigabytesPerSecond);

/// <summary>
/// Times all-reduce on each data path a tensor-parallel group can use, ranks on threads of this
/// process (the TCP paths over loopback sockets, as separate processes would use them): the shared-
/// memory group, plain TCP, TCP with mutual TLS (an ephemeral CA made for the run), and Akka.Remote
/// messages (each rank in an actor system of its own, over loopback Akka.Remote).
/// </summary>
internal static class CollectiveBenchmark
{
    public static IReadOnlyList<CollectiveTiming> Run(IReadOnlyList<int> rankCounts, IReadOnlyList<int> sizes, int iterations, TextWriter log)
    {
        var timings = new List<CollectiveTiming>();
        using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        using var root = EphemeralAuthority.Create();
        foreach (int ranks in rankCounts)
        {
            foreach (string path in (string[])["in-process", "tcp", "tcp+tls", "akka-remote"])
            {
                log.WriteLine($"bench-collectives: {ranks} ranks, {path}...");
                var systems = new List<ActorSystem>();
                ICommunicator[] group = path switch
                {
                    "in-process" => [.. Enumerable.Range(0, ranks).Select(new InProcessCommunicatorGroup(ranks).Index)],
                    "tcp" => Mesh(ranks, _ => null),
                    "tcp+tls" => Mesh(ranks, _ => new TcpCommunicatorOptions(root.Issue(), root.Certificate)),
                    _ => AkkaMesh(ranks, systems),
                };
                try
                {
                    foreach (int elements in sizes)
                    {
                        double[] micros = Time(accelerator, group, elements, iterations);
                        Array.Sort(micros);
                        double median = micros[micros.Length / 2];
                        timings.Add(new CollectiveTiming(path, ranks, elements, median, micros[0], elements * sizeof(float) / (median * 1e3)));
                    }
                }
                finally
                {
                    foreach (IDisposable disposable in group.OfType<IDisposable>())
                    {
                        disposable.Dispose();
                    }

                    foreach (ActorSystem system in systems)
                    {
                        system.Terminate().Wait(TimeSpan.FromSeconds(30));
                    }
                }
            }
        }

        return timings;
    }

    private static ICommunicator Index(this InProcessCommunicatorGroup group, int rank) => group[rank];

    /// <summary>Each rank on its own thread runs warm-up calls, then <paramref name="iterations"/> timed ones (rank 0's times).</summary>
    private static double[] Time(Accelerator accelerator, ICommunicator[] group, int elements, int iterations)
    {
        var times = new double[iterations];
        Task[] ranks = [.. group.Select((communicator, rank) => Task.Factory.StartNew(() =>
        {
            using MemoryBuffer<float> data = accelerator.Allocate<float>(elements);
            accelerator.CopyFromCpu<float>(new float[elements], data.View);
            for (int i = 0; i < Math.Max(3, iterations / 10); i++)
            {
                communicator.AllReduceSum(data.View);
            }

            for (int i = 0; i < iterations; i++)
            {
                // A barrier first, so every call starts with all ranks present: the time is the collective's, not a straggler's.
                communicator.Barrier();
                long started = Stopwatch.GetTimestamp();
                communicator.AllReduceSum(data.View);
                if (rank == 0)
                {
                    times[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                }
            }
        }, TaskCreationOptions.LongRunning))];
        Task.WaitAll(ranks);
        return times;
    }

    private static TcpCommunicator[] Mesh(int ranks, Func<int, TcpCommunicatorOptions?> options)
    {
        TcpCommunicatorListener[] listeners = [.. Enumerable.Range(0, ranks).Select(_ => new TcpCommunicatorListener(new IPEndPoint(IPAddress.Loopback, 0)))];
        try
        {
            IPEndPoint[] endpoints = [.. listeners.Select(l => l.Endpoint)];
            Task<TcpCommunicator>[] joining = [.. Enumerable.Range(0, ranks).Select(rank => TcpCommunicator.ConnectAsync(listeners[rank], rank, endpoints, options(rank)))];
            Task.WaitAll(joining);
            return [.. joining.Select(j => j.Result)];
        }
        finally
        {
            foreach (TcpCommunicatorListener listener in listeners)
            {
                listener.Dispose();
            }
        }
    }

    /// <summary>One actor system per rank on a loopback port of its own (Flover's Akka defaults: its serializer, its frame size), every rank's receiver resolved by every other.</summary>
    private static AkkaRemoteCommunicator[] AkkaMesh(int ranks, List<ActorSystem> systems)
    {
        Config remote = ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            """).WithFallback(FloverEngine.AkkaDefaults);
        AkkaRemoteCommunicator[] mesh = [.. Enumerable.Range(0, ranks).Select(rank =>
        {
            var system = ActorSystem.Create($"flover-bench-rank-{rank}", remote);
            systems.Add(system);
            return AkkaRemoteCommunicator.Create(system, rank, ranks, "collectives");
        })];
        string[] paths = [.. mesh.Select(m => m.Path)];
        Task.WaitAll([.. mesh.Select(m => m.ConnectAsync(paths, TimeSpan.FromSeconds(30)))]);
        return mesh;
    }

    /// <summary>A throwaway certificate authority for the TLS path's run (never written anywhere).</summary>
    private sealed class EphemeralAuthority : IDisposable
    {
        private readonly ECDsa _key;

        private EphemeralAuthority(ECDsa key, X509Certificate2 certificate)
        {
            _key = key;
            Certificate = certificate;
        }

        public X509Certificate2 Certificate { get; }

        public static EphemeralAuthority Create()
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=flover-bench-ca", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            return new EphemeralAuthority(key, request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2)));
        }

        public X509Certificate2 Issue()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=flover-bench-rank", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
            using X509Certificate2 issuer = X509CertificateLoader.LoadCertificate(Certificate.RawData).CopyWithPrivateKey(_key);
            using X509Certificate2 issued = request.Create(issuer, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
            using X509Certificate2 withKey = issued.CopyWithPrivateKey(key);
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        }

        public void Dispose()
        {
            Certificate.Dispose();
            _key.Dispose();
        }
    }
}
