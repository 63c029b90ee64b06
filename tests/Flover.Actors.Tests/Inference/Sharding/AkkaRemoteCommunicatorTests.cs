using Akka.Actor;
using Akka.Configuration;
using Flover.Actors.Inference.Sharding.Collectives;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Collectives;
using Flover.Gpu.Tests.Collectives;

namespace Flover.Actors.Tests.Inference.Sharding;

/// <summary>
/// The Akka.Remote data path for collectives (issue 25's measured alternative to TCP): ranks in
/// actor systems of their own over loopback Akka.Remote, results bitwise equal to the in-process
/// group's (device buffers staged through host memory too), payloads larger than one piece, and a
/// lost or aborted peer that ends a waiting collective instead of hanging it.
/// </summary>
[Trait("Category", "Slow")]
public sealed class AkkaRemoteCommunicatorTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly RankHarness _ranks = new(Limit);
    private readonly List<ActorSystem> _systems = [];

    public void Dispose()
    {
        foreach (ActorSystem system in _systems)
        {
            system.Terminate().Wait(Limit);
        }

        _ranks.Dispose();
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 2304)]
    [InlineData(3, 7)]
    // 100 003 floats: each rank's share spans several 64 KiB pieces.
    [InlineData(3, 100_003)]
    public void All_reduce_over_akka_remote_is_bitwise_the_in_process_group_s(int size, int length)
    {
        // Values over many binades, so a different order of additions would show in the last bits.
        var random = new Random(length + size);
        float[][] inputs = [.. Enumerable.Range(0, size).Select(_ => Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-20, 20)))).ToArray())];
        var group = new InProcessCommunicatorGroup(size);
        float[][] inProcess = _ranks.OnEveryRank(size, rank => _ranks.Reduce(group[rank], inputs[rank]));

        AkkaRemoteCommunicator[] mesh = Mesh(size);
        float[][] overAkka = _ranks.OnEveryRank(size, rank => _ranks.Reduce(mesh[rank], inputs[rank]));

        for (int rank = 0; rank < size; rank++)
        {
            Assert.Equal(inProcess[rank], overAkka[rank]);
            Assert.Equal(overAkka[0], overAkka[rank]);
        }
    }

    [Fact]
    public void All_reduce_of_device_buffers_over_akka_remote_is_bitwise_the_in_process_group_s()
    {
        // Each rank's buffer on an ILGPU CPU accelerator of its own, as on each node's GPU: staged
        // through host memory on both ends, the same bits as host buffers summed in one process.
        var random = new Random(11);
        float[][] inputs = [.. Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 1001).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-20, 20)))).ToArray())];
        var group = new InProcessCommunicatorGroup(3);
        float[][] inProcess = _ranks.OnEveryRank(3, rank => _ranks.Reduce(group[rank], inputs[rank]));
        AkkaRemoteCommunicator[] mesh = Mesh(3);
        Accelerator[] devices = [.. Enumerable.Range(0, 3).Select(_ => IlgpuDevices.OpenCpuOracle())];
        try
        {
            float[][] overAkka = _ranks.OnEveryRank(3, rank =>
            {
                using MemoryBuffer<float> data = devices[rank].Allocate<float>(inputs[rank].Length);
                devices[rank].CopyFromCpu<float>(inputs[rank], data.View);
                mesh[rank].AllReduceSum(data.View);
                float[] result = new float[data.Length];
                devices[rank].CopyToCpu(data.View, result);
                return result;
            });

            Assert.All(overAkka, result => Assert.Equal(inProcess[0], result));
        }
        finally
        {
            Array.ForEach(devices, device => device.Dispose());
        }
    }

    [Fact]
    public void All_gather_of_uneven_column_slices_broadcast_and_barrier_give_every_rank_the_same_data()
    {
        int[] offsets = [0, 5, 6, 13];
        const int Rows = 4;
        AkkaRemoteCommunicator[] mesh = Mesh(3);
        float[] big = [.. Enumerable.Range(0, 40_000).Select(i => i * 0.5f)];

        float[][] gathered = _ranks.OnEveryRank(3, rank =>
        {
            int width = offsets[rank + 1] - offsets[rank];
            using MemoryBuffer<float> source = _ranks.Upload([.. Enumerable.Range(0, Rows * width).Select(i => (rank * 1000f) + i)]);
            using MemoryBuffer<float> target = _ranks.Accelerator.Allocate<float>(Rows * 13);
            mesh[rank].AllGatherColumns(source.View, Rows, offsets, target.View, 13);
            mesh[rank].Barrier();
            return _ranks.Download(target);
        });
        float[][] broadcast = _ranks.OnEveryRank(3, rank =>
        {
            // 160 KB from the root: more than one piece, and more than Akka.Remote's default frame.
            using MemoryBuffer<float> data = _ranks.Upload(rank == 1 ? big : new float[big.Length]);
            mesh[rank].Broadcast(data.View, root: 1);
            return _ranks.Download(data);
        });

        Assert.All(gathered, g => Assert.Equal(RankHarness.GatheredRows(offsets, Rows), g));
        Assert.All(broadcast, b => Assert.Equal(big, b));
    }

    [Fact]
    public void A_peer_that_stops_or_an_abort_ends_a_waiting_collective_with_the_group_aborted()
    {
        AkkaRemoteCommunicator[] mesh = Mesh(2);
        using MemoryBuffer<float> data = _ranks.Upload([1f, 2f]);

        // Rank 1 never joins the collective and goes away: rank 0 learns it by death watch, naming the rank.
        Task waiting = Task.Run(() => mesh[0].AllReduceSum(data.View));
        mesh[1].Dispose();
        var lost = Assert.Throws<CommunicatorAbortedException>(() => waiting.WaitAsync(Limit).GetAwaiter().GetResult());
        Assert.Contains("rank 1", lost.Message, StringComparison.Ordinal);

        AkkaRemoteCommunicator[] second = Mesh(2);
        Task blocked = Task.Run(() => second[0].Barrier());
        second[0].Abort();
        var aborted = Assert.Throws<CommunicatorAbortedException>(() => blocked.WaitAsync(Limit).GetAwaiter().GetResult());
        Assert.Equal("The tensor-parallel group was aborted while this rank waited in a collective.", aborted.Message);
    }

    [Fact]
    public void A_rank_that_calls_a_different_collective_is_reported_out_of_step_instead_of_its_bytes_being_taken()
    {
        AkkaRemoteCommunicator[] mesh = Mesh(2);
        using MemoryBuffer<float> data = _ranks.Upload([1.5f, -2f]);

        // Rank 1 broadcasts 8 bytes where rank 0 waits in a barrier (one byte from each peer).
        Task barrier = Task.Run(() => mesh[0].Barrier());
        mesh[1].Broadcast(data.View, root: 1);
        var error = Assert.Throws<CommunicatorAbortedException>(() => barrier.WaitAsync(Limit).GetAwaiter().GetResult());

        Assert.Contains("rank 1 is out of step with rank 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("(8 bytes) where exchange 0 at byte 0 of 1 was due", error.Message, StringComparison.Ordinal);
    }

    /// <summary>One actor system per rank, each on its own loopback port, every rank connected to every other.</summary>
    private AkkaRemoteCommunicator[] Mesh(int size)
    {
        Config remote = ConfigurationFactory.ParseString("""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            """).WithFallback(AkkaTestConfig.Default);
        AkkaRemoteCommunicator[] mesh = [.. Enumerable.Range(0, size).Select(rank =>
        {
            var system = ActorSystem.Create($"rank-{rank}", remote);
            _systems.Add(system);
            return AkkaRemoteCommunicator.Create(system, rank, size, "collectives");
        })];
        string[] paths = [.. mesh.Select(m => m.Path)];
        Task.WhenAll(mesh.Select(m => m.ConnectAsync(paths, Limit))).WaitAsync(Limit).GetAwaiter().GetResult();
        return mesh;
    }

}
