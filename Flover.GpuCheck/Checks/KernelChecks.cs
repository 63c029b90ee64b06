using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;

namespace Flover.GpuCheck.Checks;

/// <summary>
/// Every accelerator operation against a float64 reference on odd shapes (not multiples of a warp,
/// of the matmul's row group or of any tile). Each check returns the relative L2 error of the
/// device result; the callers (tests on ILGPU's CPU accelerator, the GPU check) bound it.
/// </summary>
internal sealed partial class KernelChecks(Accelerator accelerator) : IDisposable
{
    private readonly NativeModelWeights _tensors = new(CheckWeights.Config(), "kernel check tensors");
    private readonly List<IDisposable> _owned = [];
    private readonly Random _random = new(11);
    private int _tensorCount;

    /// <summary>Matmul of <paramref name="rows"/> × <paramref name="k"/> by a K × N matrix held as <paramref name="dtype"/>.</summary>
    public double MatMul(int rows, int k, int n, TensorDType dtype, MatrixLayout layout, bool bias, KernelActivation activation, bool accumulate)
    {
        float[] x = Values(rows * k);
        float[] w = Round(Values(k * n), dtype);
        float[] b = Values(n);
        float[] before = Values(rows * n);
        // The checkpoint tensor is [K, N] or [N, K]; the reference reads it as K × N either way.
        float[] stored = layout == MatrixLayout.InputMajor ? w : Transpose(w, k, n);
        long[] shape = layout == MatrixLayout.InputMajor ? [k, n] : [n, k];
        DeviceMatrix matrix = Own(accelerator.UploadMatrix(Tensor(stored, dtype, shape), layout, dtype));
        ArrayView<float> output = Upload(before);
        accelerator.MatMul(Upload(x), rows, matrix, bias ? Upload(b) : default, output, activation, accumulate);

        var expected = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < n; c++)
            {
                double sum = 0;
                for (int i = 0; i < k; i++)
                {
                    sum += (double)x[(r * k) + i] * w[(i * n) + c];
                }

                double value = Activate(sum + (bias ? b[c] : 0), activation);
                expected[(r * n) + c] = accumulate ? before[(r * n) + c] + value : value;
            }
        }

        return Compare.RelativeL2(Download(output), expected);
    }

    /// <summary>Layer norm of <paramref name="rows"/> rows of <paramref name="width"/>.</summary>
    public double LayerNorm(int rows, int width)
    {
        float[] x = Values(rows * width, centre: 0.7f);
        float[] gain = Values(width, centre: 1f);
        float[] bias = Values(width);
        ArrayView<float> output = Upload(new float[rows * width]);
        accelerator.LayerNorm(Upload(x), output, rows, width, Upload(gain), Upload(bias), 1e-5f);
        var expected = new double[rows * width];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0;
            for (int i = 0; i < width; i++)
            {
                mean += x[(r * width) + i];
            }

            mean /= width;
            double variance = 0;
            for (int i = 0; i < width; i++)
            {
                variance += Math.Pow(x[(r * width) + i] - mean, 2);
            }

            double inverse = 1 / Math.Sqrt((variance / width) + 1e-5);
            for (int i = 0; i < width; i++)
            {
                expected[(r * width) + i] = ((x[(r * width) + i] - mean) * inverse * gain[i]) + bias[i];
            }
        }

        return Compare.RelativeL2(Download(output), expected);
    }

    /// <summary>An activation over <paramref name="length"/> values spread over ±4.</summary>
    public double Activate(int length, KernelActivation activation)
    {
        float[] x = Values(length, scale: 4f);
        ArrayView<float> values = Upload(x);
        accelerator.Activate(values, activation);
        return Compare.RelativeL2(Download(values), x.Select(v => Activate(v, activation)).ToArray());
    }

    /// <summary>Every embedding lookup: a flat table, a tied head's columns (as <paramref name="dtype"/>), a vocabulary slice, and added positions.</summary>
    public double Embeddings(int rows, int width, int vocabulary, int positions, TensorDType dtype)
    {
        int[] tokens = [.. Enumerable.Range(0, rows).Select(_ => _random.Next(vocabulary))];
        int[] places = [.. Enumerable.Range(0, rows).Select(_ => _random.Next(positions))];
        float[] table = Round(Values(vocabulary * width), dtype);
        float[] positionTable = Values(positions * width);
        ArrayView<int> tokenView = Upload(tokens);
        ArrayView<int> placeView = Upload(places);
        ArrayView<float> positionView = Upload(positionTable);
        DeviceMatrix head = Own(accelerator.UploadMatrix(Tensor(table, dtype, vocabulary, width), MatrixLayout.OutputMajor, dtype));

        ArrayView<float> flat = Upload(new float[rows * width]);
        accelerator.Embed(tokenView, placeView, rows, Upload(table), positionView, flat, width);
        ArrayView<float> columns = Upload(new float[rows * width]);
        accelerator.Embed(tokenView, placeView, rows, head, positionView, columns);
        int first = vocabulary / 3;
        DeviceMatrix slice = Own(accelerator.UploadMatrix(Tensor(table[(first * width)..], dtype, vocabulary - first, width), MatrixLayout.OutputMajor, dtype));
        ArrayView<float> sliced = Upload(Values(rows * width));
        accelerator.EmbedVocabularySlice(tokenView, rows, slice, first, sliced);
        accelerator.AddPositionEmbeddings(placeView, rows, positionView, sliced, width);

        var expected = new double[rows * width];
        var expectedSlice = new double[rows * width];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < width; c++)
            {
                double position = positionTable[(places[r] * width) + c];
                double token = table[(tokens[r] * width) + c];
                expected[(r * width) + c] = token + position;
                expectedSlice[(r * width) + c] = (tokens[r] >= first ? token : 0) + position;
            }
        }

        return new[] { Compare.RelativeL2(Download(flat), expected), Compare.RelativeL2(Download(columns), expected), Compare.RelativeL2(Download(sliced), expectedSlice) }.Max();
    }

    /// <summary>
    /// KV stores and causal attention for rows at scattered slots and positions; earlier positions
    /// are filled first by a prefill-like store, as in a step. A <paramref name="kvType"/> of F16 or
    /// BF16 stores rounded keys and values; the float64 reference rounds them the same way.
    /// </summary>
    public double Attention(int slots, int heads, int capacity, int headSize, int layers, TensorDType kvType = TensorDType.F32)
    {
        var layout = new KvCacheLayout(slots, layers, heads, capacity, headSize) { ElementType = kvType };
        int width = heads * headSize;
        int layer = layers - 1;
        KvCache cache = Own(new KvCache(accelerator, layout));
        Func<float, double> stored = kvType switch
        {
            TensorDType.F16 => v => (float)(Half)v,
            TensorDType.BF16 => v => BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(v)),
            _ => v => v,
        };
        int[] rowSlots = [.. Enumerable.Range(0, slots).OrderBy(_ => _random.Next()).Take(Math.Max(1, slots - 1))];
        int rows = rowSlots.Length;
        int[] rowPositions = [.. rowSlots.Select(_ => _random.Next(capacity))];
        var history = new Dictionary<(int Slot, int Position), float[]>();
        // Every position up to each row's own is written by WriteKv, one position at a time.
        for (int position = 0; position < capacity; position++)
        {
            int[] live = [.. Enumerable.Range(0, rows).Where(r => rowPositions[r] >= position)];
            if (live.Length == 0)
            {
                continue;
            }

            float[] qkv = Values(live.Length * 3 * width);
            for (int i = 0; i < live.Length; i++)
            {
                history[(rowSlots[live[i]], position)] = qkv[(i * 3 * width)..((i + 1) * 3 * width)];
            }

            cache.Write(accelerator, Upload(qkv), live.Length, Upload(live.Select(r => rowSlots[r]).ToArray()), Upload(live.Select(_ => position).ToArray()), layer);
        }

        float[] queries = [.. Enumerable.Range(0, rows).SelectMany(r => history[(rowSlots[r], rowPositions[r])])];
        ArrayView<float> output = Upload(new float[rows * width]);
        cache.Attend(accelerator, Upload(queries), rows, Upload(rowSlots), Upload(rowPositions), layer, output);

        var expected = new double[rows * width];
        for (int r = 0; r < rows; r++)
        {
            for (int h = 0; h < heads; h++)
            {
                var scores = new double[rowPositions[r] + 1];
                for (int j = 0; j < scores.Length; j++)
                {
                    float[] key = history[(rowSlots[r], j)];
                    double dot = 0;
                    for (int d = 0; d < headSize; d++)
                    {
                        dot += (double)queries[(r * 3 * width) + (h * headSize) + d] * stored(key[width + (h * headSize) + d]);
                    }

                    scores[j] = dot / Math.Sqrt(headSize);
                }

                double max = scores.Max();
                double[] weights = [.. scores.Select(s => Math.Exp(s - max))];
                double total = weights.Sum();
                for (int d = 0; d < headSize; d++)
                {
                    double sum = 0;
                    for (int j = 0; j < weights.Length; j++)
                    {
                        sum += weights[j] * stored(history[(rowSlots[r], j)][(2 * width) + (h * headSize) + d]);
                    }

                    expected[(r * width) + (h * headSize) + d] = sum / total;
                }
            }
        }

        return Compare.RelativeL2(Download(output), expected);
    }

    /// <summary>The tensor-parallel epilogue, row gathers and device copies (overlapping included).</summary>
    public double RowsAndCopies(int rows, int width)
    {
        float[] values = Values(rows * width);
        float[] bias = Values(width);
        float[] residual = Values(rows * width);
        ArrayView<float> residualView = Upload(residual);
        accelerator.AddBiasAndResidual(Upload(values), rows, width, Upload(bias), residualView);
        double[] expected = [.. residual.Select((v, i) => v + ((double)values[i] + bias[i % width]))];
        double epilogue = Compare.RelativeL2(Download(residualView), expected);

        int[] picks = [.. Enumerable.Range(0, rows).Where(r => r % 2 == 1).Reverse()];
        ArrayView<float> gathered = Upload(new float[Math.Max(1, picks.Length) * width]);
        accelerator.GatherRows(Upload(values), Upload(picks), picks.Length, width, gathered);
        double[] expectedGather = [.. picks.SelectMany(r => values.AsSpan(r * width, width).ToArray()).Select(v => (double)v)];
        double gather = Compare.RelativeL2(Download(gathered).AsSpan(0, picks.Length * width), expectedGather);

        ArrayView<float> buffer = Upload(values);
        int shift = width / 2 + 1;
        accelerator.Copy(buffer.SubView(0, values.Length - shift), buffer.SubView(shift, values.Length - shift));
        double[] expectedCopy = [.. values.Take(shift).Concat(values.Take(values.Length - shift)).Select(v => (double)v)];
        double copy = Compare.RelativeL2(Download(buffer), expectedCopy);
        return new[] { epilogue, gather, copy }.Max();
    }

    /// <summary>
    /// Greedy choice on the device for <paramref name="rows"/> rows of <paramref name="rowWidth"/>
    /// logits, the first <paramref name="candidates"/> choosable: returns the rows whose id differs from
    /// the host sampler's choice (NaN rows: −2 − the first NaN's index). Row r % 6 is random (0), a tie
    /// for the maximum (1), NaN first (2), NaN elsewhere (3), all −∞ (4), or with its largest value
    /// past the candidates (5).
    /// </summary>
    public int GreedyChoices(int rows, int rowWidth, int candidates)
    {
        float[] logits = Values(rows * rowWidth, scale: 8f);
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = logits.AsSpan(r * rowWidth, rowWidth);
            switch (r % 6)
            {
                case 1:
                    row[candidates / 3] = row[(2 * candidates) / 3] = 100f;
                    break;
                case 2:
                    row[0] = float.NaN;
                    break;
                case 3:
                    row[candidates / 2] = row[(candidates / 2) + 1 < candidates ? (candidates / 2) + 1 : 0] = float.NaN;
                    break;
                case 4:
                    row.Fill(float.NegativeInfinity);
                    break;
                case 5:
                    row[rowWidth - 1] = 1000f;
                    break;
            }
        }

        ArrayView<int> chosen = Upload(new int[rows]);
        accelerator.ArgMaxRows(Upload(logits), rows, rowWidth, candidates, chosen);
        var actual = new int[rows];
        accelerator.CopyToCpu(chosen, actual);
        int wrong = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = logits.AsSpan(r * rowWidth, candidates);
            int best = 0;
            for (int i = 1; i < row.Length; i++)
            {
                best = row[i] > row[best] ? i : best;
            }

            int nan = row.IndexOf(float.NaN);
            int expected = nan >= 0 ? -2 - nan : float.IsNegativeInfinity(row[best]) ? -1 : best;
            wrong += actual[r] == expected ? 0 : 1;
        }

        return wrong;
    }

    public void Dispose()
    {
        foreach (IDisposable item in _owned)
        {
            item.Dispose();
        }

        _tensors.Dispose();
    }

    private static double Activate(double x, KernelActivation activation) => activation switch
    {
        KernelActivation.GeluTanh => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x)))),
        KernelActivation.GeluExact => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        KernelActivation.Relu => Math.Max(x, 0),
        _ => x,
    };

    /// <summary>
    /// erf in double, for the reference only: the Taylor series below 3 (cancellation costs at most
    /// 4 digits there) and 1 − erfc from its continued fraction above (exact to double rounding by 3).
    /// </summary>
    private static double Erf(double x)
    {
        double a = Math.Abs(x);
        double result;
        if (a < 3)
        {
            double sum = 0;
            double term = a;
            for (int n = 0; n < 200; n++)
            {
                sum += term / ((2 * n) + 1);
                term *= -a * a / (n + 1);
            }

            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double fraction = a;
            for (int n = 100; n >= 1; n--)
            {
                fraction = a + (n / 2.0 / fraction);
            }

            result = 1 - (Math.Exp(-a * a) / Math.Sqrt(Math.PI) / fraction);
        }

        return Math.Sign(x) * result;
    }

    private static float[] Round(float[] values, TensorDType dtype) => dtype switch
    {
        TensorDType.F16 => [.. values.Select(v => (float)(Half)v)],
        TensorDType.BF16 => [.. values.Select(v => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(v) & unchecked((int)0xFFFF0000)))],
        _ => values,
    };

    private static float[] Transpose(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                result[(c * rows) + r] = values[(r * columns) + c];
            }
        }

        return result;
    }

    private float[] Values(int count, float scale = 1f, float centre = 0f) =>
        [.. Enumerable.Range(0, count).Select(_ => centre + (scale * (float)((_random.NextDouble() * 2) - 1)))];

    private TensorView Tensor(float[] values, TensorDType dtype, params long[] shape)
    {
        string name = $"t{_tensorCount++}";
        _tensors.Add(name, dtype, values, shape);
        return _tensors.Get(name);
    }

    private ArrayView<T> Upload<T>(T[] values)
        where T : unmanaged
    {
        MemoryBuffer<T> buffer = Own(accelerator.Allocate<T>(Math.Max(values.Length, 1)));
        accelerator.CopyFromCpu<T>(values, buffer.View.SubView(0, values.Length));
        return buffer.View.SubView(0, values.Length);
    }

    private float[] Download(ArrayView<float> view)
    {
        var values = new float[view.Length];
        accelerator.CopyToCpu(view, values);
        return values;
    }

    private T Own<T>(T item)
        where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }
}
