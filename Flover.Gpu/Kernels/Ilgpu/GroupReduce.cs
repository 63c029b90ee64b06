using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>
/// Reductions over one group (a power-of-two size) in a fixed tree: thread t adds t + half, halving,
/// so a sum's order depends on the group size alone and the result is the same every run. Every
/// thread of the group must call, and every thread gets the result.
/// </summary>
internal static class GroupReduce
{
    /// <summary>The group's sum of <paramref name="value"/>.</summary>
    public static double Sum(double value, ArrayView<double> shared)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half)
            {
                shared[t] += shared[t + half];
            }

            Group.Barrier();
        }

        return Result(shared);
    }

    /// <summary>The group's sum of <paramref name="value"/>.</summary>
    public static long Sum(long value, ArrayView<long> shared)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half)
            {
                shared[t] += shared[t + half];
            }

            Group.Barrier();
        }

        return Result(shared);
    }

    /// <summary>The group's least <paramref name="value"/>.</summary>
    public static long Min(long value, ArrayView<long> shared)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half && shared[t + half] < shared[t])
            {
                shared[t] = shared[t + half];
            }

            Group.Barrier();
        }

        return Result(shared);
    }

    /// <summary>The group's greatest <paramref name="value"/>.</summary>
    public static long Max(long value, ArrayView<long> shared)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half && shared[t + half] > shared[t])
            {
                shared[t] = shared[t + half];
            }

            Group.Barrier();
        }

        return Result(shared);
    }

    /// <summary>The group's greatest <paramref name="value"/> (no NaN), exactly: a float widens to double without rounding.</summary>
    public static float Max(float value, ArrayView<double> shared)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half && shared[t + half] > shared[t])
            {
                shared[t] = shared[t + half];
            }

            Group.Barrier();
        }

        return (float)Result(shared);
    }

    // Every thread reads the root before any thread may start the next reduction over the same memory.
    private static double Result(ArrayView<double> shared)
    {
        double result = shared[0];
        Group.Barrier();
        return result;
    }

    private static long Result(ArrayView<long> shared)
    {
        long result = shared[0];
        Group.Barrier();
        return result;
    }
}
