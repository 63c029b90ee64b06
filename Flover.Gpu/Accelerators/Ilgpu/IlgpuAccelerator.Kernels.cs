using Flover.Gpu.Kernels.Ilgpu;
using Flover.Gpu.Memory;
using ILGPU;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>The accelerator's operations as device kernel launches; each is counted in <see cref="IlgpuAccelerator.Counters"/>.</summary>
public sealed partial class IlgpuAccelerator
{
    /// <inheritdoc />
    protected override void MatMulCore(ArrayView<float> input, int rows, DeviceMatrix weights, ArrayView<float> bias, ArrayView<float> output, KernelActivation activation, bool accumulate)
    {
        if (rows == 0)
        {
            return;
        }

        var matrix = (IlgpuMatrix)weights;
        Begin("MatMul");
        if (TryFastMatMul(input, rows, matrix, bias, output, activation, accumulate))
        {
            End();
            return;
        }

        MatMulArgs args = MatMulArguments(input, rows, matrix, matrix.Weights(this), bias, output, activation, accumulate, _shared.NoFloats.View.AsContiguous());
        int groups = (rows + LinearKernels.RowsPerThread - 1) / LinearKernels.RowsPerThread;
        // Split K when the matrix has too few columns to fill the device. The choice and the
        // partition depend on the matrix's shape only, never on the rows: batch invariance holds.
        int chunks = matrix.OutputSize < SplitKBelowColumns ? (matrix.InputSize + MatMulChunk - 1) / MatMulChunk : 1;
        if (chunks == 1)
        {
            Launch(nameof(LinearKernels.MatMul));
            _kernels.MatMul(new Index2D(matrix.OutputSize, groups), args);
            End();
            return;
        }

        args.Partials = View(Scratch(ref _partials, (long)chunks * rows * matrix.OutputSize).View);
        args.ChunkSize = MatMulChunk;
        args.ChunkCount = chunks;
        Launch(nameof(LinearKernels.MatMulPartial));
        _kernels.MatMulPartial(new Index3D(matrix.OutputSize, groups, chunks), args);
        Launch(nameof(LinearKernels.MatMulReduce));
        _kernels.MatMulReduce(new Index2D(matrix.OutputSize, rows), args);
        End();
    }

    /// <inheritdoc />
    protected override void LayerNormCore(ArrayView<float> input, ArrayView<float> output, int rows, int width, ArrayView<float> gain, ArrayView<float> bias, float epsilon)
    {
        if (rows == 0)
        {
            return;
        }

        Begin("LayerNorm");
        Launch(nameof(NormKernels.LayerNorm));
        _kernels.LayerNorm(new KernelConfig(rows, _kernels.NormGroupSize), new LayerNormArgs { Input = View(input), Output = View(output), Gain = View(gain), Bias = View(bias), Width = width, Epsilon = epsilon });
        End();
    }

    /// <inheritdoc />
    protected override void ActivateCore(ArrayView<float> values, KernelActivation activation)
    {
        if (activation == KernelActivation.None || values.Length == 0)
        {
            return;
        }

        Begin("Activate");
        Launch(nameof(LinearKernels.Activate));
        _kernels.Activate(checked((int)values.Length), View(values), (int)activation);
        End();
    }

    /// <inheritdoc />
    protected override void EmbedCore(ArrayView<int> tokens, ArrayView<int> positions, int rows, ArrayView<float> tokenTable, ArrayView<float> positionTable, ArrayView<float> output, int width)
    {
        if (rows == 0)
        {
            return;
        }

        Begin("Embed");
        EmbedArgs args = EmbedArguments(tokens, positions, positionTable, output, width);
        args.Table = View(tokenTable);
        args.TokenCount = checked((int)(tokenTable.Length / width));
        Launch(nameof(RowKernels.Embed));
        _kernels.Embed(new Index2D(width, rows), args);
        End();
    }

    /// <inheritdoc />
    protected override void EmbedColumnsCore(ArrayView<int> tokens, ArrayView<int> positions, int rows, DeviceMatrix tokenColumns, ArrayView<float> positionTable, ArrayView<float> output)
    {
        if (rows == 0)
        {
            return;
        }

        var matrix = (IlgpuMatrix)tokenColumns;
        Begin("EmbedColumns");
        EmbedArgs args = EmbedArguments(tokens, positions, positionTable, output, matrix.InputSize);
        args.Columns = matrix.Weights(this);
        args.TokenCount = matrix.OutputSize;
        Launch(nameof(RowKernels.EmbedColumns));
        _kernels.EmbedColumns(new Index2D(matrix.InputSize, rows), args);
        End();
    }

    /// <inheritdoc />
    protected override void EmbedVocabularySliceCore(ArrayView<int> tokens, int rows, DeviceMatrix tokenColumns, int firstToken, ArrayView<float> output)
    {
        if (rows == 0)
        {
            return;
        }

        var matrix = (IlgpuMatrix)tokenColumns;
        Begin("EmbedVocabularySlice");
        EmbedArgs args = EmbedArguments(tokens, tokens, output, output, matrix.InputSize);
        args.Columns = matrix.Weights(this);
        args.TokenCount = matrix.OutputSize;
        args.FirstToken = firstToken;
        Launch(nameof(RowKernels.EmbedVocabularySlice));
        _kernels.EmbedVocabularySlice(new Index2D(matrix.InputSize, rows), args);
        End();
    }

    /// <inheritdoc />
    protected override void AddPositionEmbeddingsCore(ArrayView<int> positions, int rows, ArrayView<float> positionTable, ArrayView<float> output, int width)
    {
        if (rows == 0)
        {
            return;
        }

        Begin("AddPositionEmbeddings");
        Launch(nameof(RowKernels.AddPositionEmbeddings));
        _kernels.AddPositionEmbeddings(new Index2D(width, rows), EmbedArguments(positions, positions, positionTable, output, width));
        End();
    }

    /// <inheritdoc />
    protected override void WriteKvCore(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer) =>
        WriteKv(qkv, rows, layout.HeadCount, slots, positions, CacheOf(cache, default, layout), layout, layer);

    /// <inheritdoc />
    protected override void WriteKvCore(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer) =>
        WriteKv(qkv, rows, layout.HeadCount, slots, positions, CacheOf(default, cache, layout), layout, layer);

    /// <inheritdoc />
    protected override void WriteGroupedKvCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer) =>
        WriteKv(qkv, rows, queryHeads, slots, positions, CacheOf(cache, default, layout), layout, layer);

    /// <inheritdoc />
    protected override void AttentionCore(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer, ArrayView<float> output) =>
        Attention(qkv, rows, layout.HeadCount, slots, positions, CacheOf(cache, default, layout), layout, layer, output);

    /// <inheritdoc />
    protected override void AttentionCore(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer, ArrayView<float> output) =>
        Attention(qkv, rows, layout.HeadCount, slots, positions, CacheOf(default, cache, layout), layout, layer, output);

    /// <inheritdoc />
    protected override void GroupedAttentionCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer, ArrayView<float> output) =>
        Attention(qkv, rows, queryHeads, slots, positions, CacheOf(cache, default, layout), layout, layer, output);

    /// <inheritdoc />
    protected override void WriteGroupedKvCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer) =>
        WriteKv(qkv, rows, queryHeads, slots, positions, CacheOf(default, cache, layout), layout, layer);

    /// <inheritdoc />
    protected override void GroupedAttentionCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer, ArrayView<float> output) =>
        Attention(qkv, rows, queryHeads, slots, positions, CacheOf(default, cache, layout), layout, layer, output);

    /// <inheritdoc />
    protected override void AddBiasAndResidualCore(ArrayView<float> values, int rows, int width, ArrayView<float> bias, ArrayView<float> residual)
    {
        if (rows == 0)
        {
            return;
        }

        Begin("AddBiasAndResidual");
        Launch(nameof(LinearKernels.AddBiasAndResidual));
        _kernels.AddBiasAndResidual(new Index2D(width, rows), View(values), View(bias), View(residual), width);
        End();
    }

    /// <inheritdoc />
    protected override void ArgMaxRowsCore(ArrayView<float> logits, int rows, int rowWidth, int candidates, ArrayView<int> output)
    {
        if (rows == 0)
        {
            return;
        }

        Begin("ArgMax");
        Launch(nameof(SamplingKernels.ArgMax));
        _kernels.ArgMax(new KernelConfig(rows, _kernels.NormGroupSize), new ArgMaxArgs { Logits = View(logits), Output = View(output), RowWidth = rowWidth, Candidates = candidates });
        End();
    }

    /// <inheritdoc />
    protected override void GatherRowsCore(ArrayView<float> input, ArrayView<int> rowIndices, int count, int width, ArrayView<float> output)
    {
        if (count == 0)
        {
            return;
        }

        Begin("GatherRows");
        Launch(nameof(RowKernels.GatherRows));
        _kernels.GatherRows(new Index2D(width, count), View(input), View(rowIndices), View(output), width);
        End();
    }

    // GPT-2 passes as many query heads as the cache has heads; grouped-query models pass more.
    private void WriteKv(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, WeightView cache, KvCacheLayout layout, int layer)
    {
        if (rows == 0)
        {
            return;
        }

        Begin("WriteKv");
        Launch(nameof(RowKernels.WriteKv));
        _kernels.WriteKv(new Index2D(layout.HeadCount * layout.HeadSize, rows), KvArguments(qkv, slots, positions, cache, layout, layer, default, queryHeads));
        End();
    }

    private void Attention(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, WeightView cache, KvCacheLayout layout, int layer, ArrayView<float> output)
    {
        if (rows == 0)
        {
            return;
        }

        Begin("Attention");
        // Scratch sized for the largest call so far: a model's first pass at its row budget sizes it for good.
        Scratch(ref _scores, (long)rows * queryHeads * layout.SlotCapacity);
        Scratch(ref _sums, (long)rows * queryHeads);
        KvArgs args = KvArguments(qkv, slots, positions, cache, layout, layer, output, queryHeads);
        if (FusedAttention)
        {
            Launch(nameof(AttentionKernels.Fused));
            _kernels.FusedAttention(new KernelConfig(rows * queryHeads, _kernels.NormGroupSize), args);
            End();
            return;
        }

        Launch(nameof(AttentionKernels.Scores));
        _kernels.Scores(new Index3D(layout.SlotCapacity, queryHeads, rows), args);
        Launch(nameof(AttentionKernels.Softmax));
        _kernels.Softmax(new Index2D(queryHeads, rows), args);
        Launch(nameof(AttentionKernels.Combine));
        _kernels.Combine(new Index3D(layout.HeadSize, queryHeads, rows), args);
        End();
    }

    private EmbedArgs EmbedArguments(ArrayView<int> tokens, ArrayView<int> positions, ArrayView<float> positionTable, ArrayView<float> output, int width) => new()
    {
        Tokens = View(tokens),
        Positions = View(positions),
        Table = _shared.NoFloats.View.AsContiguous(),
        Columns = WeightsOf(Checkpoints.TensorDType.F32, null, null),
        PositionTable = View(positionTable),
        Output = View(output),
        Width = width,
        PositionCount = checked((int)(positionTable.Length / width)),
    };

    // The pool as the kernels see it: F32 values, or half bits they round into and widen from.
    private WeightView CacheOf(ArrayView<float> single, ArrayView<ushort> bits, KvCacheLayout layout) => new()
    {
        Single = single.IsValid ? View(single) : _shared.NoFloats.View.AsContiguous(),
        Bits = bits.IsValid ? View(bits) : _shared.NoBits.View.AsContiguous(),
        Format = layout.ElementType switch
        {
            Checkpoints.TensorDType.F16 => DeviceMath.FormatF16,
            Checkpoints.TensorDType.BF16 => DeviceMath.FormatBF16,
            _ => DeviceMath.FormatF32,
        },
    };

    private KvArgs KvArguments(ArrayView<float> qkv, ArrayView<int> slots, ArrayView<int> positions, WeightView cache, KvCacheLayout layout, int layer, ArrayView<float> output, int queryHeads) => new()
    {
        Qkv = View(qkv),
        Slots = View(slots),
        Positions = View(positions),
        Cache = cache,
        Scores = _scores is null ? _shared.NoFloats.View.AsContiguous() : View(_scores.View),
        Sums = _sums is null ? _shared.NoFloats.View.AsContiguous() : View(_sums.View),
        Output = output.IsValid ? View(output) : _shared.NoFloats.View.AsContiguous(),
        SlotCount = layout.SlotCount,
        HeadCount = layout.HeadCount,
        QueryHeads = queryHeads,
        SlotCapacity = layout.SlotCapacity,
        HeadSize = layout.HeadSize,
        Layer = layer,
        SlotStride = layout.SlotStride,
        LayerStride = layout.LayerStride,
        KvStride = layout.KvStride,
        Scale = 1f / MathF.Sqrt(layout.HeadSize),
    };

    private void Begin(string operation)
    {
        Bind();
        Counters.BeginOperation(operation);
    }

    private void End() => Counters.EndOperation();

    /// <summary>A matmul's kernel arguments over one chunk of K (<paramref name="partials"/>: the split-K partial sums, or a cuBLAS product for the epilogue).</summary>
    private MatMulArgs MatMulArguments(ArrayView<float> input, int rows, IlgpuMatrix matrix, WeightView weights, ArrayView<float> bias, ArrayView<float> output, KernelActivation activation, bool accumulate, ILGPU.ArrayView<float> partials) => new()
    {
        Input = View(input),
        Weights = weights,
        Bias = bias.IsValid ? View(bias) : _shared.NoFloats.View.AsContiguous(),
        Output = View(output),
        Rows = rows,
        InputSize = matrix.InputSize,
        OutputSize = matrix.OutputSize,
        HasBias = bias.IsValid ? 1 : 0,
        Activation = (int)activation,
        Accumulate = accumulate ? 1 : 0,
        Partials = partials,
        ChunkSize = matrix.InputSize,
        ChunkCount = 1,
    };
}
