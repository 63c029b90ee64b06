using System.Runtime.CompilerServices;
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
                    RunPanel(weights.Panels + (panel * weights.PanelElements), panel, tile);
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

    /// <summary>All rows of one F32 panel: blocks of four rows, then single rows.</summary>
    private void RunPanel(float* panelData, int panel, float* tile)
    {
        int k = _weights!.InputSize;
        int row = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; row + 4 <= _rows; row += 4)
            {
                Block4x512(_input + ((long)row * k), k, panelData, tile);
                Epilogue(tile, row, 4, panel);
            }
        }

        for (; row < _rows; row++)
        {
            Block1(_input + ((long)row * k), k, panelData, tile);
            Epilogue(tile, row, 1, panel);
        }
    }

    /// <summary>Four rows × 64 columns: 16 Vector512 accumulators, each weight load reused by four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x512(float* x, int k, float* panel, float* tile)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        float* x1 = x + k;
        float* x2 = x1 + k;
        float* x3 = x2 + k;
        for (int i = 0; i < k; i++)
        {
            float* w = panel + ((long)i * PanelWidth);
            Vector512<float> w0 = Vector512.Load(w);
            Vector512<float> w1 = Vector512.Load(w + 16);
            Vector512<float> w2 = Vector512.Load(w + 32);
            Vector512<float> w3 = Vector512.Load(w + 48);
            Vector512<float> b = Vector512.Create(x[i]);
            a00 = Vector512.FusedMultiplyAdd(w0, b, a00);
            a01 = Vector512.FusedMultiplyAdd(w1, b, a01);
            a02 = Vector512.FusedMultiplyAdd(w2, b, a02);
            a03 = Vector512.FusedMultiplyAdd(w3, b, a03);
            b = Vector512.Create(x1[i]);
            a10 = Vector512.FusedMultiplyAdd(w0, b, a10);
            a11 = Vector512.FusedMultiplyAdd(w1, b, a11);
            a12 = Vector512.FusedMultiplyAdd(w2, b, a12);
            a13 = Vector512.FusedMultiplyAdd(w3, b, a13);
            b = Vector512.Create(x2[i]);
            a20 = Vector512.FusedMultiplyAdd(w0, b, a20);
            a21 = Vector512.FusedMultiplyAdd(w1, b, a21);
            a22 = Vector512.FusedMultiplyAdd(w2, b, a22);
            a23 = Vector512.FusedMultiplyAdd(w3, b, a23);
            b = Vector512.Create(x3[i]);
            a30 = Vector512.FusedMultiplyAdd(w0, b, a30);
            a31 = Vector512.FusedMultiplyAdd(w1, b, a31);
            a32 = Vector512.FusedMultiplyAdd(w2, b, a32);
            a33 = Vector512.FusedMultiplyAdd(w3, b, a33);
        }

        a00.Store(tile);
        a01.Store(tile + 16);
        a02.Store(tile + 32);
        a03.Store(tile + 48);
        a10.Store(tile + 64);
        a11.Store(tile + 80);
        a12.Store(tile + 96);
        a13.Store(tile + 112);
        a20.Store(tile + 128);
        a21.Store(tile + 144);
        a22.Store(tile + 160);
        a23.Store(tile + 176);
        a30.Store(tile + 192);
        a31.Store(tile + 208);
        a32.Store(tile + 224);
        a33.Store(tile + 240);
    }

    /// <summary>One row × 64 columns with eight Vector256 accumulators (lane-wise the same FMA chain as the wide path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1(float* x, int k, float* panel, float* tile)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> a4 = default, a5 = default, a6 = default, a7 = default;
        for (int i = 0; i < k; i++)
        {
            float* w = panel + ((long)i * PanelWidth);
            Vector256<float> b = Vector256.Create(x[i]);
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(w), b, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 8), b, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 16), b, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 24), b, a3);
            a4 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 32), b, a4);
            a5 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 40), b, a5);
            a6 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 48), b, a6);
            a7 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 56), b, a7);
        }

        a0.Store(tile);
        a1.Store(tile + 8);
        a2.Store(tile + 16);
        a3.Store(tile + 24);
        a4.Store(tile + 32);
        a5.Store(tile + 40);
        a6.Store(tile + 48);
        a7.Store(tile + 56);
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
            if (_activation == KernelActivation.None)
            {
                for (; j + Vector256<float>.Count <= columns; j += Vector256<float>.Count)
                {
                    Vector256<float> value = Vector256.Load(source + j);
                    if (bias != null)
                    {
                        value += Vector256.Load(bias + j);
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
