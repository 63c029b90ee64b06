using Flover.Gpu.Accelerators;
using Flover.Gpu.Collectives;

namespace Flover.Gpu.Tests.Accelerators;

/// <summary>The shared-memory collectives, each rank on its own thread.</summary>
public sealed class InProcessCommunicatorTests
{
    [Fact]
    public async Task All_reduce_adds_in_rank_order_and_every_rank_gets_the_same_bits()
    {
        // 1e8 + 1 - 1e8 depends on the order: in rank order (1e8 + 1) rounds to 1e8, then - 1e8 = 0.
        float[][] values = [[1e8f, 1f, 2f], [1f, 2f, 3f], [-1e8f, 3f, 4f]];
        float[][] results = await RunRanks(3, (communicator, accelerator) =>
        {
            using MemoryBuffer<float> buffer = accelerator.Allocate<float>(3);
            accelerator.CopyFromCpu<float>(values[communicator.Rank], buffer.View);
            communicator.AllReduceSum(buffer.View);
            var result = new float[3];
            accelerator.CopyToCpu(buffer.View, result);
            return result;
        });

        float[] expected = [((1e8f + 1f) + -1e8f), 6f, 9f];
        Assert.All(results, result => Assert.Equal(expected, result));
    }

    [Fact]
    public async Task All_gather_places_uneven_column_slices_at_their_offsets()
    {
        int[] offsets = [0, 2, 5];
        float[][] results = await RunRanks(2, (communicator, accelerator) =>
        {
            int width = offsets[communicator.Rank + 1] - offsets[communicator.Rank];
            float[] local = [.. Enumerable.Range(0, 2 * width).Select(i => (communicator.Rank * 100f) + i)];
            using MemoryBuffer<float> localBuffer = accelerator.Allocate<float>(local.Length);
            using MemoryBuffer<float> gathered = accelerator.Allocate<float>(10);
            accelerator.CopyFromCpu<float>(local, localBuffer.View);
            communicator.AllGatherColumns(localBuffer.View, 2, offsets, gathered.View, 5);
            var result = new float[10];
            accelerator.CopyToCpu(gathered.View, result);
            return result;
        });

        float[] expected = [0, 1, 100, 101, 102, 2, 3, 103, 104, 105];
        Assert.All(results, result => Assert.Equal(expected, result));
    }

    [Fact]
    public async Task Broadcast_copies_the_root_buffer_to_every_rank()
    {
        float[][] results = await RunRanks(3, (communicator, accelerator) =>
        {
            using MemoryBuffer<float> buffer = accelerator.Allocate<float>(2);
            accelerator.CopyFromCpu<float>([communicator.Rank, communicator.Rank], buffer.View);
            communicator.Broadcast(buffer.View, root: 1);
            var result = new float[2];
            accelerator.CopyToCpu(buffer.View, result);
            return result;
        });

        Assert.All(results, result => Assert.Equal([1f, 1f], result));
    }

    [Fact]
    public async Task Abort_wakes_a_rank_waiting_for_a_missing_one_and_reset_makes_the_group_usable()
    {
        var group = new InProcessCommunicatorGroup(2);
        Task waiting = Task.Run(() => group[0].Barrier());
        Assert.False(waiting.IsCompleted); // It cannot complete: rank 1 never arrives.

        group.Abort();

        await Assert.ThrowsAsync<CommunicatorAbortedException>(() => waiting);
        group.Reset();
        await Task.WhenAll(Task.Run(() => group[0].Barrier()), Task.Run(() => group[1].Barrier()));
    }

    private static async Task<float[][]> RunRanks(int size, Func<ICommunicator, Accelerator, float[]> body)
    {
        var group = new InProcessCommunicatorGroup(size);
        Task<float[]>[] ranks = [.. Enumerable.Range(0, size).Select(rank => Task.Factory.StartNew(
            () =>
            {
                using Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
                return body(group[rank], accelerator);
            },
            TaskCreationOptions.LongRunning))];
        return await Task.WhenAll(ranks);
    }
}
