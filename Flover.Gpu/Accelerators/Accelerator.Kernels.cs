using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Accelerators;

/// <summary>The fixed set of kernels every accelerator runs; each checks its views, then runs its core.</summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// <c>output[m, :] (+)= activation(input[m, :] · weights + bias)</c> for <paramref name="rows"/> rows:
    /// input rows are <see cref="DeviceMatrix.InputSize"/> wide, output rows <see cref="DeviceMatrix.OutputSize"/>.
    /// Each output element is reduced over the input in index order, whatever the row count and workers.
    /// </summary>
    /// <param name="input">rows × K values.</param>
    /// <param name="rows">M: rows to multiply.</param>
    /// <param name="weights">The K × N matrix.</param>
    /// <param name="bias">N values added before the activation, or the default view for none.</param>
    /// <param name="output">rows × N values; must not overlap <paramref name="input"/>.</param>
    /// <param name="activation">Applied after the bias.</param>
    /// <param name="accumulate">Add the result to <paramref name="output"/> (a residual connection) instead of storing it.</param>
    public void MatMul(ArrayView<float> input, int rows, DeviceMatrix weights, ArrayView<float> bias, ArrayView<float> output, KernelActivation activation, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        CheckMatrix(weights);

        CheckAtLeast(input, (long)rows * weights.InputSize, nameof(input));
        CheckAtLeast(output, (long)rows * weights.OutputSize, nameof(output));
        if (bias.IsValid)
        {
            CheckAtLeast(bias, weights.OutputSize, nameof(bias));
        }

        MatMulCore(input, rows, weights, bias, output, activation, accumulate);
    }

    /// <summary>Layer norm of <paramref name="rows"/> rows of <paramref name="width"/> values: <c>(x − mean) / √(var + ε) · gain + bias</c>.</summary>
    public void LayerNorm(ArrayView<float> input, ArrayView<float> output, int rows, int width, ArrayView<float> gain, ArrayView<float> bias, float epsilon)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        CheckAtLeast(input, (long)rows * width, nameof(input));
        CheckAtLeast(output, (long)rows * width, nameof(output));
        CheckAtLeast(gain, width, nameof(gain));
        CheckAtLeast(bias, width, nameof(bias));
        LayerNormCore(input, output, rows, width, gain, bias, epsilon);
    }

    /// <summary>Applies <paramref name="activation"/> to every element of <paramref name="values"/> in place.</summary>
    public void Activate(ArrayView<float> values, KernelActivation activation)
    {
        CheckAtLeast(values, 0, nameof(values));
        ActivateCore(values, activation);
    }

    /// <summary>
    /// <c>output[r, :] = tokenTable[tokens[r], :] + positionTable[positions[r], :]</c> for <paramref name="rows"/> rows.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A token or position lies outside its table.</exception>
    public void Embed(ArrayView<int> tokens, ArrayView<int> positions, int rows, ArrayView<float> tokenTable, ArrayView<float> positionTable, ArrayView<float> output, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        CheckAtLeast(tokens, rows, nameof(tokens));
        CheckAtLeast(positions, rows, nameof(positions));
        CheckAtLeast(tokenTable, width, nameof(tokenTable));
        CheckAtLeast(positionTable, width, nameof(positionTable));
        CheckAtLeast(output, (long)rows * width, nameof(output));
        EmbedCore(tokens, positions, rows, tokenTable, positionTable, output, width);
    }

    /// <summary>
    /// <c>output[r, :] = tokenColumns[:, tokens[r]] + positionTable[positions[r], :]</c>: the embedding
    /// lookup of a model whose token table is its (tied) LM head, read from the head's columns so the
    /// table is held once. Rows are <see cref="DeviceMatrix.InputSize"/> wide; the vocabulary is its
    /// <see cref="DeviceMatrix.OutputSize"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A token or position lies outside its table.</exception>
    public void Embed(ArrayView<int> tokens, ArrayView<int> positions, int rows, DeviceMatrix tokenColumns, ArrayView<float> positionTable, ArrayView<float> output)
    {
        ArgumentNullException.ThrowIfNull(tokenColumns);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        CheckMatrix(tokenColumns);
        int width = tokenColumns.InputSize;
        CheckAtLeast(tokens, rows, nameof(tokens));
        CheckAtLeast(positions, rows, nameof(positions));
        CheckAtLeast(positionTable, width, nameof(positionTable));
        CheckAtLeast(output, (long)rows * width, nameof(output));
        EmbedColumnsCore(tokens, positions, rows, tokenColumns, positionTable, output);
    }

    /// <summary>
    /// <c>output[r, :] = tokenColumns[:, tokens[r] − firstToken]</c> when the token lies in the
    /// matrix's slice of the vocabulary (<paramref name="firstToken"/> .. + <see cref="DeviceMatrix.OutputSize"/>),
    /// zeros otherwise: a tensor-parallel shard's part of a vocabulary-parallel embedding lookup, to be
    /// summed over shards (exactly one shard contributes each row, so the sum is exact).
    /// </summary>
    public void EmbedVocabularySlice(ArrayView<int> tokens, int rows, DeviceMatrix tokenColumns, int firstToken, ArrayView<float> output)
    {
        ArgumentNullException.ThrowIfNull(tokenColumns);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(firstToken);
        CheckMatrix(tokenColumns);
        CheckAtLeast(tokens, rows, nameof(tokens));
        CheckAtLeast(output, (long)rows * tokenColumns.InputSize, nameof(output));
        EmbedVocabularySliceCore(tokens, rows, tokenColumns, firstToken, output);
    }

    /// <summary><c>output[r, :] += positionTable[positions[r], :]</c> for <paramref name="rows"/> rows of <paramref name="width"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A position lies outside the table.</exception>
    public void AddPositionEmbeddings(ArrayView<int> positions, int rows, ArrayView<float> positionTable, ArrayView<float> output, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        CheckAtLeast(positions, rows, nameof(positions));
        CheckAtLeast(positionTable, width, nameof(positionTable));
        CheckAtLeast(output, (long)rows * width, nameof(output));
        AddPositionEmbeddingsCore(positions, rows, positionTable, output, width);
    }

    /// <summary>
    /// Stores the keys and values of <paramref name="rows"/> fused QKV rows (<c>[q | k | v]</c>, each
    /// heads × head-size wide) into <paramref name="cache"/> at each row's slot and position of <paramref name="layer"/>.
    /// </summary>
    public void WriteKv(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer)
    {
        CheckAttentionArguments(qkv, rows, slots, positions, cache, layout, layer, single: true);
        WriteKvCore(qkv, rows, slots, positions, cache, layout, layer);
    }

    /// <summary>
    /// <see cref="WriteKv(ArrayView{float}, int, ArrayView{int}, ArrayView{int}, ArrayView{float}, KvCacheLayout, int)"/>
    /// into an F16 or BF16 cache (the layout's <see cref="KvCacheLayout.ElementType"/>): each key and
    /// value is rounded to nearest, ties to even, as the weights are.
    /// </summary>
    public void WriteKv(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer)
    {
        CheckAttentionArguments(qkv, rows, slots, positions, cache, layout, layer, single: false);
        WriteKvCore(qkv, rows, slots, positions, cache, layout, layer);
    }

    /// <summary>
    /// Causal attention of <paramref name="rows"/> query rows (the q part of fused QKV rows), each over its
    /// own slot's keys and values at positions 0 to its position inclusive; writes heads × head-size per row.
    /// The keys and values of every row must already be in the cache (<see cref="WriteKv(ArrayView{float}, int, ArrayView{int}, ArrayView{int}, ArrayView{float}, KvCacheLayout, int)"/>).
    /// </summary>
    public void Attention(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer, ArrayView<float> output)
    {
        CheckAttentionArguments(qkv, rows, slots, positions, cache, layout, layer, single: true);
        CheckAtLeast(output, (long)rows * layout.HeadCount * layout.HeadSize, nameof(output));
        AttentionCore(qkv, rows, slots, positions, cache, layout, layer, output);
    }

    /// <summary>
    /// <see cref="Attention(ArrayView{float}, int, ArrayView{int}, ArrayView{int}, ArrayView{float}, KvCacheLayout, int, ArrayView{float})"/>
    /// over an F16 or BF16 cache: keys and values are widened exactly to F32 and go through the same
    /// arithmetic as an F32 cache holding those widened values, bit for bit.
    /// </summary>
    public void Attention(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer, ArrayView<float> output)
    {
        CheckAttentionArguments(qkv, rows, slots, positions, cache, layout, layer, single: false);
        CheckAtLeast(output, (long)rows * layout.HeadCount * layout.HeadSize, nameof(output));
        AttentionCore(qkv, rows, slots, positions, cache, layout, layer, output);
    }

    /// <summary>
    /// <c>residual[r, c] = residual[r, c] + (values[r, c] + bias[c])</c> for <paramref name="rows"/> rows
    /// of <paramref name="width"/>: the epilogue of a projection whose product was reduced across
    /// tensor-parallel shards, rounded in the same order as <see cref="MatMul"/>'s accumulate epilogue.
    /// </summary>
    public void AddBiasAndResidual(ArrayView<float> values, int rows, int width, ArrayView<float> bias, ArrayView<float> residual)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        CheckAtLeast(values, (long)rows * width, nameof(values));
        CheckAtLeast(bias, width, nameof(bias));
        CheckAtLeast(residual, (long)rows * width, nameof(residual));
        AddBiasAndResidualCore(values, rows, width, bias, residual);
    }

    /// <summary>
    /// The greedy choice of each of <paramref name="rows"/> logits rows, made where the logits are, so
    /// only the ids travel: the index of the greatest of a row's first <paramref name="candidates"/>
    /// values, the first such index on a tie, as <see cref="Sampling.RequestSampler"/>'s greedy scan
    /// chooses; −2 − i for a row whose first NaN is at index i (the sampler's "NaN logit" error), and
    /// −1 where the greatest value is −∞ (nothing can be chosen).
    /// </summary>
    /// <param name="logits">rows × <paramref name="rowWidth"/> values.</param>
    /// <param name="rows">Rows to choose in.</param>
    /// <param name="rowWidth">Values from one row's start to the next's.</param>
    /// <param name="candidates">Leading values of a row that may be chosen (1..<paramref name="rowWidth"/>).</param>
    /// <param name="output">One id per row.</param>
    public void ArgMaxRows(ArrayView<float> logits, int rows, int rowWidth, int candidates, ArrayView<int> output)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(candidates);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(candidates, rowWidth);
        CheckAtLeast(logits, (long)rows * rowWidth, nameof(logits));
        CheckAtLeast(output, rows, nameof(output));
        ArgMaxRowsCore(logits, rows, rowWidth, candidates, output);
    }

    /// <summary><c>output[i, :] = input[rowIndices[i], :]</c> for <paramref name="count"/> rows of <paramref name="width"/>.</summary>
    public void GatherRows(ArrayView<float> input, ArrayView<int> rowIndices, int count, int width, ArrayView<float> output)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        CheckAtLeast(input, 0, nameof(input));
        CheckAtLeast(rowIndices, count, nameof(rowIndices));
        CheckAtLeast(output, (long)count * width, nameof(output));
        GatherRowsCore(input, rowIndices, count, width, output);
    }

    /// <summary>Runs a checked <see cref="ArgMaxRows"/>.</summary>
    protected abstract void ArgMaxRowsCore(ArrayView<float> logits, int rows, int rowWidth, int candidates, ArrayView<int> output);

    /// <summary>Runs a checked <see cref="MatMul"/>.</summary>
    protected abstract void MatMulCore(ArrayView<float> input, int rows, DeviceMatrix weights, ArrayView<float> bias, ArrayView<float> output, KernelActivation activation, bool accumulate);

    /// <summary>Runs a checked <see cref="LayerNorm"/>.</summary>
    protected abstract void LayerNormCore(ArrayView<float> input, ArrayView<float> output, int rows, int width, ArrayView<float> gain, ArrayView<float> bias, float epsilon);

    /// <summary>Runs a checked <see cref="Activate"/>.</summary>
    protected abstract void ActivateCore(ArrayView<float> values, KernelActivation activation);

    /// <summary>Runs a checked <see cref="Embed(ArrayView{int}, ArrayView{int}, int, ArrayView{float}, ArrayView{float}, ArrayView{float}, int)"/>.</summary>
    protected abstract void EmbedCore(ArrayView<int> tokens, ArrayView<int> positions, int rows, ArrayView<float> tokenTable, ArrayView<float> positionTable, ArrayView<float> output, int width);

    /// <summary>Runs a checked <see cref="Embed(ArrayView{int}, ArrayView{int}, int, DeviceMatrix, ArrayView{float}, ArrayView{float})"/>.</summary>
    protected abstract void EmbedColumnsCore(ArrayView<int> tokens, ArrayView<int> positions, int rows, DeviceMatrix tokenColumns, ArrayView<float> positionTable, ArrayView<float> output);

    /// <summary>Runs a checked <see cref="EmbedVocabularySlice"/>.</summary>
    protected abstract void EmbedVocabularySliceCore(ArrayView<int> tokens, int rows, DeviceMatrix tokenColumns, int firstToken, ArrayView<float> output);

    /// <summary>Runs a checked <see cref="AddPositionEmbeddings"/>.</summary>
    protected abstract void AddPositionEmbeddingsCore(ArrayView<int> positions, int rows, ArrayView<float> positionTable, ArrayView<float> output, int width);

    /// <summary>Runs a checked <see cref="WriteKv(ArrayView{float}, int, ArrayView{int}, ArrayView{int}, ArrayView{float}, KvCacheLayout, int)"/>.</summary>
    protected abstract void WriteKvCore(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer);

    /// <summary>Runs a checked <see cref="WriteKv(ArrayView{float}, int, ArrayView{int}, ArrayView{int}, ArrayView{ushort}, KvCacheLayout, int)"/>.</summary>
    protected abstract void WriteKvCore(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer);

    /// <summary>Runs a checked <see cref="Attention(ArrayView{float}, int, ArrayView{int}, ArrayView{int}, ArrayView{float}, KvCacheLayout, int, ArrayView{float})"/>.</summary>
    protected abstract void AttentionCore(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer, ArrayView<float> output);

    /// <summary>Runs a checked <see cref="Attention(ArrayView{float}, int, ArrayView{int}, ArrayView{int}, ArrayView{ushort}, KvCacheLayout, int, ArrayView{float})"/>.</summary>
    protected abstract void AttentionCore(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer, ArrayView<float> output);

    /// <summary>Runs a checked <see cref="AddBiasAndResidual"/>.</summary>
    protected abstract void AddBiasAndResidualCore(ArrayView<float> values, int rows, int width, ArrayView<float> bias, ArrayView<float> residual);

    /// <summary>Runs a checked <see cref="GatherRows"/>.</summary>
    protected abstract void GatherRowsCore(ArrayView<float> input, ArrayView<int> rowIndices, int count, int width, ArrayView<float> output);

    private void CheckAttentionArguments<T>(ArrayView<float> qkv, int rows, ArrayView<int> slots, ArrayView<int> positions, ArrayView<T> cache, KvCacheLayout layout, int layer, bool single)
        where T : unmanaged
    {
        layout.Validate();
        if ((layout.ElementType == TensorDType.F32) != single)
        {
            throw new ArgumentException($"A KV cache of {layout.ElementType} elements is a view of {(single ? "ushort bits" : "float")}, not {typeof(T).Name}.", nameof(cache));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if ((uint)layer >= (uint)layout.LayerCount)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The cache has {layout.LayerCount} layers.");
        }

        CheckAtLeast(qkv, (long)rows * 3 * layout.HeadCount * layout.HeadSize, nameof(qkv));
        CheckAtLeast(slots, rows, nameof(slots));
        CheckAtLeast(positions, rows, nameof(positions));
        CheckAtLeast(cache, layout.ElementCount, nameof(cache));
    }

    private void CheckMatrix(DeviceMatrix matrix)
    {
        // Another accelerator's matrix is fine if this one can read its memory (shared weights).
        if (!SharesMemoryWith(matrix.Accelerator) || matrix.IsDisposed)
        {
            throw new ArgumentException($"Matrix '{matrix.Name}' is disposed or belongs to an accelerator whose memory this one cannot read.", nameof(matrix));
        }
    }

    private void CheckAtLeast<T>(ArrayView<T> view, long length, string name)
        where T : unmanaged
    {
        CheckView(view, name, shared: true);
        if (view.Length < length)
        {
            throw new ArgumentException($"The view holds {view.Length} elements; the operation needs {length}.", name);
        }
    }
}
