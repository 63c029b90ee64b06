using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>
/// Reductions over one group (a power-of-two size) in a fixed tree: thread t combines t + half into t,
/// halving, so a result's order of operations depends on the group size alone and is the same every
/// run. Every thread of the group must call, and every thread gets the result.
/// </summary>
internal static class GroupReduce
{
    /// <summary>The group's sum of <paramref name="value"/>.</summary>
    public static double Sum(double value, ArrayView<double> shared) => Tree<double, Add>(value, shared);

    /// <summary>The group's sum of <paramref name="value"/>.</summary>
    public static long Sum(long value, ArrayView<long> shared) => Tree<long, Add>(value, shared);

    /// <summary>The group's least <paramref name="value"/>.</summary>
    public static long Min(long value, ArrayView<long> shared) => Tree<long, Least>(value, shared);

    /// <summary>The group's greatest <paramref name="value"/>.</summary>
    public static long Max(long value, ArrayView<long> shared) => Tree<long, Greatest>(value, shared);

    /// <summary>The group's greatest <paramref name="value"/> (no NaN), exactly: a float widens to double without rounding.</summary>
    public static float Max(float value, ArrayView<double> shared) => (float)Tree<double, Greatest>(value, shared);

    // The combining step is a struct's method, so ILGPU specialises the tree per operation at compile
    // time: no call through an interface is left in the kernel.
    private static T Tree<T, TCombine>(T value, ArrayView<T> shared)
        where T : unmanaged
        where TCombine : struct, ICombine<T>
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half)
            {
                shared[t] = default(TCombine).Combine(shared[t], shared[t + half]);
            }

            Group.Barrier();
        }

        // Every thread reads the root before any thread may start the next reduction over the same memory.
        T result = shared[0];
        Group.Barrier();
        return result;
    }

    private interface ICombine<T>
    {
        /// <summary>What the tree keeps of thread t's value and thread t + half's.</summary>
        T Combine(T kept, T other);
    }

    private readonly struct Add : ICombine<double>, ICombine<long>
    {
        public double Combine(double kept, double other) => kept + other;

        public long Combine(long kept, long other) => kept + other;
    }

    private readonly struct Least : ICombine<long>
    {
        public long Combine(long kept, long other) => other < kept ? other : kept;
    }

    private readonly struct Greatest : ICombine<double>, ICombine<long>
    {
        public double Combine(double kept, double other) => other > kept ? other : kept;

        public long Combine(long kept, long other) => other > kept ? other : kept;
    }
}
