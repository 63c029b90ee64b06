using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>The arguments of <see cref="LinearKernels.MatMul"/>.</summary>
internal struct MatMulArgs
{
    public ArrayView<float> Input;
    public WeightView Weights;
    public ArrayView<float> Bias;
    public ArrayView<float> Output;
    public int Rows;
    public int InputSize;
    public int OutputSize;
    public int HasBias;
    public int Activation;
    public int Accumulate;

    /// <summary>Split-K: partial sums, <c>[chunk][row][n]</c> (<see cref="LinearKernels.MatMulPartial"/>).</summary>
    public ArrayView<float> Partials;

    /// <summary>Split-K: the k range of one chunk, and how many chunks cover the input.</summary>
    public int ChunkSize;
    public int ChunkCount;
}

/// <summary>
/// Matrix products and element-wise epilogues. Each output element is computed by one thread,
/// reducing over k in index order, so its bits never depend on how many rows share the launch,
/// on the launch's shape or on the device's group size: that is the device's batch invariance.
/// </summary>
internal static class LinearKernels
{
    /// <summary>Rows one thread of <see cref="MatMul"/> multiplies, reading each weight once for all of them.</summary>
    public const int RowsPerThread = 4;

    /// <summary>
    /// <c>output[m, n] (+)= act(Σₖ input[m, k] · W[k, n] + bias[n])</c>. Index: (n, row group). Consecutive
    /// threads read consecutive columns of a weight row, so a warp's loads are coalesced; each thread
    /// keeps <see cref="RowsPerThread"/> independent sums (rows past the end are skipped, never
    /// computed differently).
    /// </summary>
    public static void MatMul(Index2D index, MatMulArgs a)
    {
        int n = index.X;
        int first = index.Y * RowsPerThread;
        int live = a.Rows - first;
        RowSums sums = SumRange(a, first, live, n, 0, a.InputSize);

        Store(a, first, n, sums.S0);
        if (live > 1)
        {
            Store(a, first + 1, n, sums.S1);
        }

        if (live > 2)
        {
            Store(a, first + 2, n, sums.S2);
        }

        if (live > 3)
        {
            Store(a, first + 3, n, sums.S3);
        }
    }

    /// <summary>
    /// Split-K, first half: the sums over k in [c·chunk, (c+1)·chunk) for 4 rows of one column,
    /// into <c>partials[c][row][n]</c>. Index: (n, row group, chunk c). Used when a matrix has few
    /// output columns to spread over the device; the partition depends only on K, so each element's
    /// order of additions is still fixed whatever the batch.
    /// </summary>
    public static void MatMulPartial(Index3D index, MatMulArgs a)
    {
        int n = index.X;
        int first = index.Y * RowsPerThread;
        int live = a.Rows - first;
        long k = a.InputSize;
        long start = (long)index.Z * a.ChunkSize;
        long end = start + a.ChunkSize < k ? start + a.ChunkSize : k;
        RowSums sums = SumRange(a, first, live, n, start, end);

        long at = (((long)index.Z * a.Rows) + first) * a.OutputSize + n;
        a.Partials[at] = sums.S0;
        if (live > 1)
        {
            a.Partials[at + a.OutputSize] = sums.S1;
        }

        if (live > 2)
        {
            a.Partials[at + (2L * a.OutputSize)] = sums.S2;
        }

        if (live > 3)
        {
            a.Partials[at + (3L * a.OutputSize)] = sums.S3;
        }
    }

    /// <summary>
    /// Column <paramref name="n"/>'s sums over k in [<paramref name="start"/>, <paramref name="end"/>)
    /// for the <paramref name="live"/> (at most 4) rows from <paramref name="first"/>, each added in k
    /// order from zero: the whole-K kernel and every split-K chunk share this one loop, so both reduce
    /// in the same order.
    /// </summary>
    private static RowSums SumRange(MatMulArgs a, int first, int live, int n, long start, long end)
    {
        long k = a.InputSize;
        long x0 = first * k;
        var sums = default(RowSums);
        for (long i = start; i < end; i++)
        {
            float w = a.Weights.Load((i * a.OutputSize) + n);
            sums.S0 += a.Input[x0 + i] * w;
            if (live > 1)
            {
                sums.S1 += a.Input[x0 + k + i] * w;
            }

            if (live > 2)
            {
                sums.S2 += a.Input[x0 + (2 * k) + i] * w;
            }

            if (live > 3)
            {
                sums.S3 += a.Input[x0 + (3 * k) + i] * w;
            }
        }

        return sums;
    }

    /// <summary>Up to <see cref="RowsPerThread"/> running sums of one column.</summary>
    private struct RowSums
    {
        public float S0;
        public float S1;
        public float S2;
        public float S3;
    }

    /// <summary>Split-K, second half: adds a column's chunk sums in chunk order, then the epilogue. Index: (n, row).</summary>
    public static void MatMulReduce(Index2D index, MatMulArgs a)
    {
        long stride = (long)a.Rows * a.OutputSize;
        long at = ((long)index.Y * a.OutputSize) + index.X;
        float sum = a.Partials[at];
        for (int c = 1; c < a.ChunkCount; c++)
        {
            sum += a.Partials[(c * stride) + at];
        }

        Store(a, index.Y, index.X, sum);
    }

    /// <summary><c>values[i] = act(values[i])</c>.</summary>
    public static void Activate(Index1D index, ArrayView<float> values, int activation) =>
        values[index] = DeviceMath.Activate(values[index], activation);

    /// <summary><c>residual[r, c] = residual[r, c] + (values[r, c] + bias[c])</c>. Index: (c, r).</summary>
    public static void AddBiasAndResidual(Index2D index, ArrayView<float> values, ArrayView<float> bias, ArrayView<float> residual, int width)
    {
        long at = ((long)index.Y * width) + index.X;
        residual[at] = residual[at] + (values[at] + bias[index.X]);
    }

    private static void Store(MatMulArgs a, int row, int n, float sum)
    {
        long at = ((long)row * a.OutputSize) + n;
        float value = a.HasBias != 0 ? sum + a.Bias[n] : sum;
        value = DeviceMath.Activate(value, a.Activation);
        a.Output[at] = a.Accumulate != 0 ? a.Output[at] + value : value;
    }
}
