using Flover.Gpu.Checkpoints;
using Flover.Gpu.Kernels.Cpu;
using Flover.Gpu.Memory;
using Flover.Gpu.Sampling;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// The CPU as an accelerator: buffers are aligned native memory, kernels are SIMD C# (Vector512 with
/// FMA where the CPU has it, Vector256 otherwise) spread over a fixed <see cref="WorkerPool"/> whose
/// worker 0 is the calling thread. Operations are synchronous.
/// </summary>
internal sealed unsafe class CpuAccelerator : Accelerator
{
    private readonly WorkerPool _pool;
    private readonly MatMulKernel _matMul = new();
    private readonly AttentionKernel _attention = new();
    private readonly LayerNormKernel _layerNorm = new();
    private readonly RmsNormKernel _rmsNorm = new();
    private readonly RotaryKernel _rotary = new();
    private readonly SwiGluKernel _swiGlu = new();
    private readonly ActivationKernel _activation = new();

    public CpuAccelerator(int workerCount)
    {
        _pool = new WorkerPool(workerCount);
        Device = new AcceleratorDevice(AcceleratorKind.Cpu, "cpu", $"{AcceleratorContext.DescribeSimd()}, {workerCount} worker thread(s)");
    }

    public override AcceleratorDevice Device { get; }

    /// <summary>Kernel workers, the calling thread included.</summary>
    public int WorkerCount => _pool.WorkerCount;

    /// <summary>Every CPU accelerator's buffers are host memory that any other CPU accelerator's workers can use.</summary>
    public override bool SharesMemoryWith(Accelerator other) => other is CpuAccelerator;

    public override void Synchronize()
    {
        // Every CPU operation has completed when it returns.
    }

    /// <summary>
    /// The read-only streaming bandwidth of this machine, in bytes per second: the best of
    /// <paramref name="passes"/> passes summing a <paramref name="bytes"/>-byte buffer (choose one
    /// larger than the last-level cache) with this accelerator's workers. Decode at batch 1 reads
    /// every weight once per step, so this is its ceiling.
    /// </summary>
    public double MeasureReadBandwidth(long bytes, int passes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1L << 20);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(passes);
        long length = bytes / sizeof(float);
        using MemoryBuffer<float> buffer = Allocate<float>(length);
        float* data = Pointer(buffer.View);
        // On the pages the weights get (CpuMatrix), so the probe is the ceiling of their stream.
        HugePages.Advise((byte*)data, length * sizeof(float));
        // Write every page first so the pass measures reads of resident memory, not page faults.
        new Span<float>(data, (int)Math.Min(length, int.MaxValue)).Fill(1f);
        for (long i = int.MaxValue; i < length; i++)
        {
            data[i] = 1f;
        }

        var kernel = new StreamReadKernel();
        kernel.Set(data, length, _pool.WorkerCount);
        double best = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            _pool.Run(kernel);
            double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
            kernel.Collect();
            best = Math.Max(best, length * sizeof(float) / seconds);
        }

        return kernel.Sink == length ? best : throw new InvalidOperationException("The bandwidth probe summed the wrong total.");
    }

    internal static T* Pointer<T>(ArrayView<T> view)
        where T : unmanaged => ((CpuMemoryBuffer<T>)view.Buffer!).Pointer + view.Index;

    protected override MemoryBuffer<T> AllocateCore<T>(long length) => new CpuMemoryBuffer<T>(this, length);

    protected override MemoryBuffer<T> AllocateOnDemandCore<T>(long length) => new CpuMemoryBuffer<T>(this, length, onDemand: true);

    protected override void DecommitCore<T>(ArrayView<T> view) => ((CpuMemoryBuffer<T>)view.Buffer!).Decommit(view.Index, view.Length);

    protected override long ResidentBytesCore<T>(MemoryBuffer<T> buffer) => ((CpuMemoryBuffer<T>)buffer).ResidentBytes;

    protected override void CopyFromCpuCore<T>(ReadOnlySpan<T> source, ArrayView<T> destination)
    {
        fixed (T* from = source)
        {
            long bytes = source.Length * (long)sizeof(T);
            Buffer.MemoryCopy(from, Pointer(destination), bytes, bytes);
        }
    }

    protected override void CopyToCpuCore<T>(ArrayView<T> source, Span<T> destination)
    {
        fixed (T* to = destination)
        {
            long bytes = destination.Length * (long)sizeof(T);
            Buffer.MemoryCopy(Pointer(source), to, bytes, bytes);
        }
    }

    protected override void CopyCore<T>(ArrayView<T> source, ArrayView<T> destination)
    {
        long bytes = source.Length * sizeof(T);
        Buffer.MemoryCopy(Pointer(source), Pointer(destination), bytes, bytes);
    }

    protected override DeviceMatrix UploadMatrixCore(TensorView tensor, MatrixLayout layout, TensorDType elementType) => CpuMatrix.Pack(this, tensor, layout, elementType);

    protected override void MatMulCore(ArrayView<float> input, int rows, DeviceMatrix weights, ArrayView<float> bias, ArrayView<float> output, KernelActivation activation, bool accumulate)
    {
        if (rows == 0)
        {
            return;
        }

        var matrix = (CpuMatrix)weights;
        _matMul.Set(Pointer(input), rows, matrix, bias.IsValid ? Pointer(bias) : null, Pointer(output), activation, accumulate, _pool.ChunkSize(matrix.PanelCount, perWorker: 16), _pool.WorkerCount);
        _pool.Run(_matMul);
    }

    protected override void LayerNormCore(ArrayView<float> input, ArrayView<float> output, int rows, int width, ArrayView<float> gain, ArrayView<float> bias, float epsilon)
    {
        _layerNorm.Set(Pointer(input), Pointer(output), rows, width, Pointer(gain), Pointer(bias), epsilon, _pool.ChunkSize(rows));
        _pool.Run(_layerNorm);
    }

    protected override void ActivateCore(ArrayView<float> values, KernelActivation activation)
    {
        if (activation == KernelActivation.None || values.Length == 0)
        {
            return;
        }

        _activation.Set(Pointer(values), values.Length, activation, Math.Max(4096, values.Length / (_pool.WorkerCount * 4)));
        _pool.Run(_activation);
    }

    protected override void EmbedCore(ArrayView<int> tokens, ArrayView<int> positions, int rows, ArrayView<float> tokenTable, ArrayView<float> positionTable, ArrayView<float> output, int width) =>
        RowKernels.Embed(Pointer(tokens), Pointer(positions), rows, Pointer(tokenTable), tokenTable.Length / width, Pointer(positionTable), positionTable.Length / width, Pointer(output), width);

    protected override void EmbedColumnsCore(ArrayView<int> tokens, ArrayView<int> positions, int rows, DeviceMatrix tokenColumns, ArrayView<float> positionTable, ArrayView<float> output)
    {
        var matrix = (CpuMatrix)tokenColumns;
        int width = matrix.InputSize;
        RowKernels.EmbedColumns(Pointer(tokens), Pointer(positions), rows, matrix, Pointer(positionTable), positionTable.Length / width, Pointer(output));
    }

    protected override void EmbedVocabularySliceCore(ArrayView<int> tokens, int rows, DeviceMatrix tokenColumns, int firstToken, ArrayView<float> output) =>
        RowKernels.EmbedVocabularySlice(Pointer(tokens), rows, (CpuMatrix)tokenColumns, firstToken, Pointer(output));

    protected override void AddPositionEmbeddingsCore(ArrayView<int> positions, int rows, ArrayView<float> positionTable, ArrayView<float> output, int width) =>
        RowKernels.AddPositionEmbeddings(Pointer(positions), rows, Pointer(positionTable), positionTable.Length / width, Pointer(output), width);

    protected override void WriteKvCore(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer) =>
        RowKernels.WriteKv(Pointer(qkv), rows, layout.HeadCount, Pointer(slots), Pointer(positions), Pointer(cache), layout, layer);

    protected override void WriteKvCore(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer) =>
        RowKernels.WriteKv(Pointer(qkv), rows, layout.HeadCount, Pointer(slots), Pointer(positions), Pointer(cache), layout, layer);

    protected override void AttentionCore(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer, ArrayView<float> output) =>
        Attention(qkv, rows, layout.HeadCount, slots, positions, Pointer(cache), layout, layer, output);

    protected override void AttentionCore(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer, ArrayView<float> output) =>
        Attention(qkv, rows, layout.HeadCount, slots, positions, Pointer(cache), layout, layer, output);

    protected override void WriteGroupedKvCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer) =>
        RowKernels.WriteKv(Pointer(qkv), rows, queryHeads, Pointer(slots), Pointer(positions), Pointer(cache), layout, layer);

    protected override void GroupedAttentionCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer, ArrayView<float> output) =>
        Attention(qkv, rows, queryHeads, slots, positions, Pointer(cache), layout, layer, output);

    protected override void WriteGroupedKvCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer) =>
        RowKernels.WriteKv(Pointer(qkv), rows, queryHeads, Pointer(slots), Pointer(positions), Pointer(cache), layout, layer);

    protected override void GroupedAttentionCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer, ArrayView<float> output) =>
        Attention(qkv, rows, queryHeads, slots, positions, Pointer(cache), layout, layer, output);

    protected override void RmsNormCore(ArrayView<float> input, ArrayView<float> output, int rows, int width, ArrayView<float> gain, float epsilon)
    {
        _rmsNorm.Set(Pointer(input), Pointer(output), rows, width, Pointer(gain), epsilon, _pool.ChunkSize(rows));
        _pool.Run(_rmsNorm);
    }

    protected override void ApplyRotaryCore(ArrayView<float> qkv, int rows, ArrayView<int> positions, int queryHeads, int kvHeads, int headSize, ArrayView<float> table)
    {
        int heads = RotaryKernel.ChunkHeads((long)rows * (queryHeads + kvHeads), headSize, _pool.WorkerCount);
        _rotary.Set(Pointer(qkv), rows, Pointer(positions), queryHeads, kvHeads, headSize, Pointer(table), table.Length, heads);
        _pool.Run(_rotary);
    }

    protected override void SwiGluCore(ArrayView<float> gateUp, int rows, int width, ArrayView<float> output)
    {
        _swiGlu.Set(Pointer(gateUp), rows, width, Pointer(output), SwiGluKernel.ChunkElements((long)rows * width, _pool.WorkerCount));
        _pool.Run(_swiGlu);
    }

    protected override void AddBiasAndResidualCore(ArrayView<float> values, int rows, int width, ArrayView<float> bias, ArrayView<float> residual) =>
        RowKernels.AddBiasAndResidual(Pointer(values), rows, width, Pointer(bias), Pointer(residual));

    protected override void ArgMaxRowsCore(ArrayView<float> logits, int rows, int rowWidth, int candidates, ArrayView<int> output) =>
        RowKernels.ArgMaxRows(Pointer(logits), rows, rowWidth, candidates, Pointer(output));

    protected override void SampleRowsCore(ArrayView<float> logits, int rowWidth, ReadOnlySpan<RowSampling?> rows, ArrayView<int> output, ArrayView<float> logprobs, ArrayView<int> topIds)
    {
        // The host sampler itself on each row, in place: the CPU path chooses exactly as it always did.
        for (int r = 0; r < rows.Length; r++)
        {
            if (rows[r] is not { } sampling)
            {
                continue;
            }

            Span<float> rowLogprobs = sampling.Logprobs < 0 ? default : new Span<float>(Pointer(logprobs) + ((long)r * RowSampling.LogprobsPerRow), RowSampling.LogprobsPerRow);
            Span<int> rowTopIds = sampling.Logprobs < 0 ? default : new Span<int>(Pointer(topIds) + ((long)r * RowSampling.MaxTopLogprobs), RowSampling.MaxTopLogprobs);
            Pointer(output)[r] = RequestSampler.Choose(new Span<float>(Pointer(logits) + ((long)r * rowWidth), rowWidth), sampling, rowLogprobs, rowTopIds);
        }
    }

    protected override void GatherRowsCore(ArrayView<float> input, ArrayView<int> rowIndices, int count, int width, ArrayView<float> output) =>
        RowKernels.GatherRows(Pointer(input), input.Length, Pointer(rowIndices), count, width, Pointer(output));

    protected override void DisposeCore() => _pool.Dispose();

    // GPT-2 passes as many query heads as the cache has heads; grouped-query models pass more.
    private void Attention(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, void* cache, KvCacheLayout layout, int layer, ArrayView<float> output)
    {
        int* slotIds = Pointer(slots);
        int* rowPositions = Pointer(positions);
        for (int row = 0; row < rows; row++)
        {
            // Checked here, before the workers start, because a bad slot would read outside the cache.
            if ((uint)slotIds[row] >= (uint)layout.SlotCount || (uint)rowPositions[row] >= (uint)layout.SlotCapacity)
            {
                throw new ArgumentOutOfRangeException(nameof(slots), $"Row {row} attends slot {slotIds[row]} position {rowPositions[row]}; the cache has {layout.SlotCount} slots of {layout.SlotCapacity} positions.");
            }
        }

        if (rows == 0)
        {
            return;
        }

        _attention.Set(Pointer(qkv), rows, queryHeads, slotIds, rowPositions, cache, layout, layer, Pointer(output), _pool.WorkerCount, _pool.ChunkSize(rows * queryHeads, perWorker: 8));
        _pool.Run(_attention);
    }
}
