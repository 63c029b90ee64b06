using Flover.Gpu.Accelerators;
using Flover.Gpu.Collectives;
using Flover.Gpu.Collectives.Tcp;
using Flover.Gpu.Tests.Collectives;

using static Flover.Gpu.Ilgpu.Tests.Collectives.DeviceBuffers;

namespace Flover.Gpu.Ilgpu.Tests.Collectives;

/// <summary>
/// The TCP mesh between ranks whose buffers are on a device, each rank on its own ILGPU CPU
/// accelerator as shards on different nodes' GPUs are: their values are staged through host memory
/// and the results are bitwise the in-process staged group's; ranks on the host and on a device mix.
/// </summary>
public sealed class TcpDeviceBufferTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(2, 7)]
    [InlineData(3, 100_003)]
    public void All_reduce_of_device_buffers_over_tcp_is_bitwise_the_in_process_staged_groups(int size, int length)
    {
        // Values over many binades, so a different order of additions would show in the last bits.
        var random = new Random(length + size);
        float[][] inputs = [.. Enumerable.Range(0, size).Select(_ => Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-20, 20)))).ToArray())];
        var group = new HostStagedCommunicatorGroup(size);
        float[][] inProcess = OnRanks(size, host: -1, (rank, accelerator) => Reduce(group[rank], accelerator, inputs[rank]));

        TcpCommunicator[] mesh = TcpMesh.Form(size, Limit);
        float[][] overTcp = OnRanks(size, host: -1, (rank, accelerator) => Reduce(mesh[rank], accelerator, inputs[rank]));
        TcpMesh.Dispose(mesh);

        Assert.All(overTcp, result => Assert.Equal(inProcess[0], result));
    }

    [Fact]
    public void Gathers_to_all_and_to_a_root_and_a_broadcast_reach_device_buffers_and_a_host_rank_alike()
    {
        int[] offsets = [0, 5, 6, 13];
        const int Rows = 4;
        float[] untouched = [.. Enumerable.Repeat(-7f, Rows * 13)];
        TcpCommunicator[] mesh = TcpMesh.Form(3, Limit);

        // Rank 1's buffers are host memory, ranks 0 and 2 are on their devices.
        float[][] results = OnRanks(3, host: 1, (rank, accelerator) =>
        {
            int width = offsets[rank + 1] - offsets[rank];
            // A slice longer than its rows: only rows × width of it is sent.
            using MemoryBuffer<float> local = Upload(accelerator, [.. Enumerable.Range(0, Rows * width).Select(i => (rank * 1000f) + i), 99f]);
            using MemoryBuffer<float> all = Upload(accelerator, untouched);
            using MemoryBuffer<float> toRoot = Upload(accelerator, untouched);
            using MemoryBuffer<float> broadcast = Upload(accelerator, rank == 2 ? [1.5f, -2f, 3.25f] : [0f, 0f, 0f]);
            mesh[rank].AllGatherColumns(local.View, Rows, offsets, all.View, 13);
            mesh[rank].GatherColumns(local.View, Rows, offsets, toRoot.View, 13, root: 0);
            mesh[rank].Broadcast(broadcast.View, root: 2);
            mesh[rank].Barrier();
            return [.. Download(accelerator, all.View), .. Download(accelerator, toRoot.View), .. Download(accelerator, broadcast.View)];
        });
        TcpMesh.Dispose(mesh);

        float[] gathered = [.. Enumerable.Range(0, Rows * 13).Select(i => Expected(offsets, i / 13, i % 13))];
        for (int rank = 0; rank < 3; rank++)
        {
            Assert.Equal([.. gathered, .. rank == 0 ? gathered : untouched, 1.5f, -2f, 3.25f], results[rank]);
        }
    }

    /// <summary>Row <paramref name="row"/>, column <paramref name="column"/> of the gathered rows: the owning rank's value.</summary>
    private static float Expected(int[] offsets, int row, int column)
    {
        int owner = Array.FindLastIndex(offsets, start => start <= column);
        int width = offsets[owner + 1] - offsets[owner];
        return (owner * 1000f) + (row * width) + column - offsets[owner];
    }

    private static float[] Reduce(ICommunicator communicator, Accelerator accelerator, float[] values)
    {
        using MemoryBuffer<float> data = Upload(accelerator, values);
        communicator.AllReduceSum(data.View);
        return Download(accelerator, data.View);
    }

    /// <summary>Runs <paramref name="body"/> for every rank at once, each on a thread and an accelerator of its own (ILGPU's CPU accelerator; the CPU engine's for rank <paramref name="host"/>).</summary>
    private static float[][] OnRanks(int size, int host, Func<int, Accelerator, float[]> body)
    {
        Accelerator[] accelerators = [.. Enumerable.Range(0, size).Select(rank => rank == host ? new AcceleratorContext(new EngineOptions(1)).CreateDefault() : Oracle.Open())];
        try
        {
            // Collectives block their thread until every rank is in: each rank gets a thread of its own.
            Task<float[]>[] ranks = [.. Enumerable.Range(0, size).Select(rank => Task.Factory.StartNew(() => body(rank, accelerators[rank]), TaskCreationOptions.LongRunning))];
            Task.WhenAll(ranks).WaitAsync(Limit).GetAwaiter().GetResult();
            return [.. ranks.Select(r => r.Result)];
        }
        finally
        {
            Array.ForEach(accelerators, a => a.Dispose());
        }
    }
}
