using Flover.Gpu.Accelerators;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>The small per-row kernels of <see cref="RowKernels"/> that a <see cref="RowJob"/> can run.</summary>
internal enum RowOperation
{
    Embed,
    EmbedColumns,
    EmbedVocabularySlice,
    AddPositionEmbeddings,
    WriteKv,
    AddBiasAndResidual,
    GatherRows,
}

/// <summary>
/// One call of a small row kernel as a single-chunk phase of a queued sequence, run in order with the
/// parallel kernels around it by the calling thread (<see cref="ICallerOnlyJob"/>), as before the queue. The arguments are kept in plain
/// fields (reused from step to step: no allocation, no closure).
/// </summary>
internal sealed unsafe class RowJob : ICallerOnlyJob
{
    private RowOperation _operation;
    private void* _a;
    private void* _b;
    private void* _c;
    private void* _d;
    private float* _output;
    private int _rows;
    private int _width;
    private long _lengthA;
    private long _lengthB;
    private int _layer;
    private CpuMatrix? _matrix;
    private KvCacheLayout _layout;

    public int ChunkCount => 1;

    /// <summary>The operation, for the profile.</summary>
    public RowOperation Operation => _operation;

    public RowJob Embed(int* tokens, int* positions, int rows, float* tokenTable, long tokenCount, float* positionTable, long positionCount, float* output, int width) =>
        Set(RowOperation.Embed, tokens, positions, tokenTable, positionTable, output, rows, width, tokenCount, positionCount);

    public RowJob EmbedColumns(int* tokens, int* positions, int rows, CpuMatrix tokenColumns, float* positionTable, long positionCount, float* output)
    {
        _matrix = tokenColumns;
        return Set(RowOperation.EmbedColumns, tokens, positions, null, positionTable, output, rows, 0, 0, positionCount);
    }

    public RowJob EmbedVocabularySlice(int* tokens, int rows, CpuMatrix tokenColumns, int firstToken, float* output)
    {
        _matrix = tokenColumns;
        return Set(RowOperation.EmbedVocabularySlice, tokens, null, null, null, output, rows, firstToken, 0, 0);
    }

    public RowJob AddPositionEmbeddings(int* positions, int rows, float* positionTable, long positionCount, float* output, int width) =>
        Set(RowOperation.AddPositionEmbeddings, positions, null, positionTable, null, output, rows, width, positionCount, 0);

    public RowJob WriteKv(float* qkv, int rows, int* slots, int* positions, float* cache, KvCacheLayout layout, int layer)
    {
        _layout = layout;
        _layer = layer;
        return Set(RowOperation.WriteKv, qkv, slots, positions, null, cache, rows, 0, 0, 0);
    }

    public RowJob AddBiasAndResidual(float* values, int rows, int width, float* bias, float* residual) =>
        Set(RowOperation.AddBiasAndResidual, values, bias, null, null, residual, rows, width, 0, 0);

    public RowJob GatherRows(float* input, long inputLength, int* rowIndices, int count, int width, float* output) =>
        Set(RowOperation.GatherRows, input, rowIndices, null, null, output, count, width, inputLength, 0);

    public void Execute(int chunk, int worker)
    {
        switch (_operation)
        {
            case RowOperation.Embed:
                RowKernels.Embed((int*)_a, (int*)_b, _rows, (float*)_c, _lengthA, (float*)_d, _lengthB, _output, _width);
                break;
            case RowOperation.EmbedColumns:
                RowKernels.EmbedColumns((int*)_a, (int*)_b, _rows, _matrix!, (float*)_d, _lengthB, _output);
                break;
            case RowOperation.EmbedVocabularySlice:
                RowKernels.EmbedVocabularySlice((int*)_a, _rows, _matrix!, _width, _output);
                break;
            case RowOperation.AddPositionEmbeddings:
                RowKernels.AddPositionEmbeddings((int*)_a, _rows, (float*)_c, _lengthA, _output, _width);
                break;
            case RowOperation.WriteKv:
                RowKernels.WriteKv((float*)_a, _rows, (int*)_b, (int*)_c, _output, _layout, _layer);
                break;
            case RowOperation.AddBiasAndResidual:
                RowKernels.AddBiasAndResidual((float*)_a, _rows, _width, (float*)_b, _output);
                break;
            default:
                RowKernels.GatherRows((float*)_a, _lengthA, (int*)_b, _rows, _width, _output);
                break;
        }
    }

    private RowJob Set(RowOperation operation, void* a, void* b, void* c, void* d, float* output, int rows, int width, long lengthA, long lengthB)
    {
        _operation = operation;
        _a = a;
        _b = b;
        _c = c;
        _d = d;
        _output = output;
        _rows = rows;
        _width = width;
        _lengthA = lengthA;
        _lengthB = lengthB;
        return this;
    }
}
