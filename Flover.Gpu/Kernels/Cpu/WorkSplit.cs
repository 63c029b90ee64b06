namespace Flover.Gpu.Kernels.Cpu;

/// <summary>Static, contiguous partition of work items among workers.</summary>
internal static class WorkSplit
{
    /// <summary>Worker <paramref name="worker"/>'s items [start, end) of <paramref name="total"/>.</summary>
    public static (int Start, int End) Range(int total, int worker, int workerCount)
    {
        int start = (int)((long)total * worker / workerCount);
        int end = (int)((long)total * (worker + 1) / workerCount);
        return (start, end);
    }
}
