using Flover.Gpu.Accelerators;
using Flover.Gpu.Collectives;

namespace Flover.Gpu.Tests.Collectives;

/// <summary>
/// What the tests of every collectives transport share (TCP here, Akka.Remote in the actor tests,
/// which link this file): a host accelerator for the ranks' buffers, one thread per rank, and the
/// expected result of a column gather.
/// </summary>
internal sealed class RankHarness : IDisposable
{
    private readonly TimeSpan _limit;

    public RankHarness(TimeSpan limit)
    {
        _limit = limit;
    }

    public Accelerator Accelerator { get; } = new AcceleratorContext(new EngineOptions(1)).CreateDefault();

    /// <summary>What gathering each rank's [rows × width] slice, valued rank·1000 + index, into rows of 13 columns gives.</summary>
    public static float[] GatheredRows(int[] offsets, int rows)
    {
        float[] expected = new float[rows * 13];
        for (int r = 0; r < offsets.Length - 1; r++)
        {
            int width = offsets[r + 1] - offsets[r];
            for (int row = 0; row < rows; row++)
            {
                for (int c = 0; c < width; c++)
                {
                    expected[(row * 13) + offsets[r] + c] = (r * 1000f) + (row * width) + c;
                }
            }
        }

        return expected;
    }

    /// <summary>Runs <paramref name="work"/> for every rank at once, within the limit.</summary>
    public float[][] OnEveryRank(int size, Func<int, float[]> work)
    {
        // Collectives block their thread until every rank is in: each rank gets a thread of its own.
        Task<float[]>[] ranks = [.. Enumerable.Range(0, size).Select(rank => Task.Factory.StartNew(() => work(rank), TaskCreationOptions.LongRunning))];
        Task.WhenAll(ranks).WaitAsync(_limit).GetAwaiter().GetResult();
        return [.. ranks.Select(r => r.Result)];
    }

    public float[] Reduce(ICommunicator communicator, float[] values)
    {
        using MemoryBuffer<float> buffer = Upload(values);
        communicator.AllReduceSum(buffer.View);
        return Download(buffer);
    }

    public MemoryBuffer<float> Upload(float[] values)
    {
        MemoryBuffer<float> buffer = Accelerator.Allocate<float>(values.Length);
        Accelerator.CopyFromCpu<float>(values, buffer.View);
        return buffer;
    }

    public float[] Download(MemoryBuffer<float> buffer)
    {
        var values = new float[buffer.View.Length];
        Accelerator.CopyToCpu(buffer.View, values);
        return values;
    }

    public void Dispose() => Accelerator.Dispose();
}
