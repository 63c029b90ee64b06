using Flover.Gpu.Accelerators;
using Flover.Gpu.Collectives;

using static Flover.Gpu.Ilgpu.Tests.Collectives.DeviceBuffers;

namespace Flover.Gpu.Ilgpu.Tests.Collectives;

/// <summary>Collectives over device buffers of three ranks, each on its own ILGPU CPU accelerator, staged through the host.</summary>
public sealed class HostStagedCommunicatorGroupTests
{
    private const int Ranks = 3;

    [Fact]
    public void All_reduce_adds_in_rank_order_and_every_rank_holds_the_same_bits()
    {
        float[][] inputs = [[1e8f, 1f, -3f, 0.1f, 5f], [-1e8f, 2f, 3f, 0.2f, 6f], [1f, 4f, 0f, 0.3f, 7f]];
        float[] expected = [.. Enumerable.Range(0, 5).Select(i => (inputs[0][i] + inputs[1][i]) + inputs[2][i])];

        float[][] results = OnRanks((communicator, accelerator) =>
        {
            using MemoryBuffer<float> data = Upload(accelerator, inputs[communicator.Rank]);
            communicator.AllReduceSum(data.View);
            return Download(accelerator, data.View);
        });

        Assert.All(results, result => Assert.Equal(expected, result));
    }

    [Fact]
    public void All_gather_places_uneven_column_slices_and_broadcast_copies_the_root()
    {
        int[] offsets = [0, 2, 3, 6];
        float[][] results = OnRanks((communicator, accelerator) =>
        {
            int rank = communicator.Rank;
            int width = offsets[rank + 1] - offsets[rank];
            // Two rows; rank r's columns hold 100·row + column.
            float[] local = [.. Enumerable.Range(0, 2 * width).Select(i => (100f * (i / width)) + offsets[rank] + (i % width))];
            using MemoryBuffer<float> slice = Upload(accelerator, local);
            using MemoryBuffer<float> gathered = accelerator.Allocate<float>(12);
            communicator.AllGatherColumns(slice.View, 2, offsets, gathered.View, 6);
            using MemoryBuffer<float> broadcast = Upload(accelerator, [rank, rank]);
            communicator.Broadcast(broadcast.View, root: 2);
            return [.. Download(accelerator, gathered.View), .. Download(accelerator, broadcast.View)];
        });

        float[] expected = [0, 1, 2, 3, 4, 5, 100, 101, 102, 103, 104, 105, 2, 2];
        Assert.All(results, result => Assert.Equal(expected, result));
    }

    [Fact]
    public void Abort_wakes_ranks_waiting_for_a_rank_that_failed()
    {
        var group = new HostStagedCommunicatorGroup(2);
        Exception? thrown = null;
        var waiting = new Thread(() =>
        {
            try
            {
                group[0].Barrier();
            }
            catch (Exception exception)
            {
                thrown = exception;
            }
        });
        waiting.Start();
        Thread.Sleep(50);

        group.Abort();

        Assert.True(waiting.Join(TimeSpan.FromSeconds(10)));
        Assert.IsType<CommunicatorAbortedException>(thrown);
    }

    private static float[][] OnRanks(Func<ICommunicator, Accelerator, float[]> body)
    {
        var group = new HostStagedCommunicatorGroup(Ranks);
        var results = new float[Ranks][];
        var failures = new Exception?[Ranks];
        Accelerator[] accelerators = [.. Enumerable.Range(0, Ranks).Select(_ => Oracle.Open())];
        try
        {
            Thread[] threads = [.. Enumerable.Range(0, Ranks).Select(rank => new Thread(() =>
            {
                try
                {
                    results[rank] = body(group[rank], accelerators[rank]);
                }
                catch (Exception exception)
                {
                    failures[rank] = exception;
                    group.Abort();
                }
            }))];
            Array.ForEach(threads, t => t.Start());
            Array.ForEach(threads, t => t.Join());
        }
        finally
        {
            Array.ForEach(accelerators, a => a.Dispose());
        }

        Assert.All(failures, Assert.Null);
        return results;
    }
}
