using System.Runtime.Intrinsics;
using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>
/// <c>output (+)= activation(input · W + bias)</c> over panel-packed weights (<see cref="CpuMatrix"/>).
/// Work is split into chunks of panels (along N), never along K: every output element is
/// <c>acc = fma(w[k], x[k], acc)</c> for k = 0, 1, ..., K−1 from zero, then <c>+ bias</c>, then the
/// activation, whatever the row count, the row's place in its block, the SIMD width or the thread
/// count. That is the engine's batch invariance.
/// Half-precision panels (F16, BF16) are widened exactly: up to <see cref="WidenedPanelRows"/> rows
/// stream the half panel and widen each vector in registers (decode is memory-bound, so the halved
/// bytes are the win); more rows widen the panel once into the worker's scratch and run the F32
/// blocks over it. Both give the very same F32 weights to the very same FMA chain, so results do not
/// depend on which path ran.
/// </summary>
internal sealed unsafe partial class MatMulKernel : IWorkerJob
{
    /// <summary>Columns per panel: four Vector512 or eight Vector256 registers.</summary>
    public const int PanelWidth = 64;

    private float* _input;
    private int _rows;
    private CpuMatrix? _weights;
    private float* _bias;
    private float* _output;
    private KernelActivation _activation;
    private bool _accumulate;
    private int _panelsPerChunk;
    private float[][] _scratch = [];
    private float[] _rebiasedInput = [];
    private bool _inputRebiased;

    public int ChunkCount { get; private set; }

    public void Set(float* input, int rows, CpuMatrix weights, float* bias, float* output, KernelActivation activation, bool accumulate, int panelsPerChunk, int workerCount)
    {
        if (weights.HalfEncoding != HalfEncoding.None && rows >= WidenedPanelRows && (_scratch.Length != workerCount || _scratch[0].Length < weights.PanelElements))
        {
            // One widened panel per worker, grown to the largest K seen: after the first step of each
            // shape nothing is allocated. Pinned, so Execute can hold a pointer without fixing it.
            long size = Math.Max(weights.PanelElements, _scratch.Length == 0 ? 0 : _scratch[0].Length);
            _scratch = new float[workerCount][];
            for (int i = 0; i < workerCount; i++)
            {
                _scratch[i] = GC.AllocateUninitializedArray<float>(checked((int)size), pinned: true);
            }
        }

        _inputRebiased = weights.HalfEncoding == HalfEncoding.FiniteF16 && rows < WidenedPanelRows && RebiasInput(input, (long)rows * weights.InputSize);
        _panelsPerChunk = panelsPerChunk;
        ChunkCount = (weights.PanelCount + panelsPerChunk - 1) / panelsPerChunk;
        _input = input;
        _rows = rows;
        _weights = weights;
        _bias = bias;
        _output = output;
        _activation = activation;
        _accumulate = accumulate;
    }

    public void Execute(int chunk, int worker)
    {
        CpuMatrix weights = _weights!;
        int first = chunk * _panelsPerChunk;
        int end = Math.Min(first + _panelsPerChunk, weights.PanelCount);
        float* tile = stackalloc float[4 * PanelWidth];
        switch (weights.HalfEncoding)
        {
            case HalfEncoding.None:
                for (int panel = first; panel < end; panel++)
                {
                    RunPanel<float, F32Format>(_input, weights.Panels + (panel * weights.PanelElements), panel, tile, wideSingleRows: false);
                }

                break;
            case HalfEncoding.BF16:
                ExecuteHalf<BF16Format>(first, end, worker, tile);
                break;
            case HalfEncoding.FiniteF16:
                ExecuteHalf<FiniteF16Format>(first, end, worker, tile);
                break;
            default:
                ExecuteHalf<F16Format>(first, end, worker, tile);
                break;
        }
    }

    /// <summary>
    /// All rows of one panel: blocks of four rows (Vector512), then single rows, either with four
    /// Vector512 accumulators (<paramref name="wideSingleRows"/>: half panels, whose widening is
    /// cheaper 16 values at a time) or eight Vector256 ones (F32, and CPUs without AVX-512).
    /// </summary>
    private void RunPanel<TElement, TFormat>(float* input, TElement* panelData, int panel, float* tile, bool wideSingleRows)
        where TElement : unmanaged
        where TFormat : IPanelFormat<TElement>
    {
        int k = _weights!.InputSize;
        int row = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; row + 4 <= _rows; row += 4)
            {
                Block4x512<TElement, TFormat>(input + ((long)row * k), k, panelData, tile);
                Epilogue(tile, row, 4, panel);
            }
        }

        bool wide = wideSingleRows && Vector512.IsHardwareAccelerated;
        for (; row < _rows; row++)
        {
            if (wide)
            {
                Block1x512<TElement, TFormat>(input + ((long)row * k), k, panelData, tile);
            }
            else
            {
                Block1x256<TElement, TFormat>(input + ((long)row * k), k, panelData, tile);
            }

            Epilogue(tile, row, 1, panel);
        }
    }

    /// <summary>
    /// Bias, activation and store (or residual add) of a tile's valid columns. The vector body and the
    /// scalar tail do the same single-rounding adds, so a column's result does not depend on which runs it.
    /// </summary>
    private void Epilogue(float* tile, int firstRow, int rowCount, int panel)
    {
        int n = _weights!.OutputSize;
        int firstColumn = panel * PanelWidth;
        int columns = Math.Min(PanelWidth, n - firstColumn);
        float* bias = _bias == null ? null : _bias + firstColumn;
        for (int r = 0; r < rowCount; r++)
        {
            float* source = tile + (r * PanelWidth);
            float* destination = _output + ((long)(firstRow + r) * n) + firstColumn;
            int j = 0;
            // The tanh GELU's vector form and the tail's one-lane form are the same lane operations.
            if (_activation is KernelActivation.None or KernelActivation.GeluTanh)
            {
                bool gelu = _activation == KernelActivation.GeluTanh;
                for (; j + Vector256<float>.Count <= columns; j += Vector256<float>.Count)
                {
                    Vector256<float> value = Vector256.Load(source + j);
                    if (bias != null)
                    {
                        value += Vector256.Load(bias + j);
                    }

                    if (gelu)
                    {
                        value = VectorGelu.GeluTanh(value);
                    }

                    if (_accumulate)
                    {
                        value = Vector256.Load(destination + j) + value;
                    }

                    value.Store(destination + j);
                }
            }

            for (; j < columns; j++)
            {
                float value = source[j];
                if (bias != null)
                {
                    value += bias[j];
                }

                value = ScalarMath.Activate(value, _activation);
                destination[j] = _accumulate ? destination[j] + value : value;
            }
        }
    }
}
