using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// The kernels LLaMA-family models add to GPT-2's: RMSNorm, rotary embeddings, SwiGLU and
/// grouped-query attention (fewer key/value heads than query heads). Each checks its views, then runs its core.
/// </summary>
public abstract partial class Accelerator
{
    /// <summary>RMS norm of <paramref name="rows"/> rows of <paramref name="width"/> values: <c>gain · (x / √(mean(x²) + ε))</c>.</summary>
    public void RmsNorm(ArrayView<float> input, ArrayView<float> output, int rows, int width, ArrayView<float> gain, float epsilon)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        CheckAtLeast(input, (long)rows * width, nameof(input));
        CheckAtLeast(output, (long)rows * width, nameof(output));
        CheckAtLeast(gain, width, nameof(gain));
        RmsNormCore(input, output, rows, width, gain, epsilon);
    }

    /// <summary>
    /// Rotates, in place, the query and key heads of <paramref name="rows"/> fused rows
    /// (<c>[q: queryHeads | k: kvHeads | v: kvHeads]</c>, each head <paramref name="headSize"/> wide) by
    /// their row's position, in Hugging Face's rotate-half convention: for i &lt; d/2,
    /// <c>x[i] ← x[i]·cos − x[i+d/2]·sin</c> and <c>x[i+d/2] ← x[i+d/2]·cos + x[i]·sin</c>.
    /// </summary>
    /// <param name="qkv">The fused rows.</param>
    /// <param name="rows">Rows to rotate.</param>
    /// <param name="positions">Each row's position.</param>
    /// <param name="queryHeads">Query heads per row.</param>
    /// <param name="kvHeads">Key (and value) heads per row.</param>
    /// <param name="headSize">Width of one head (even).</param>
    /// <param name="table">Per position, <c>headSize / 2</c> cosines then <c>headSize / 2</c> sines.</param>
    /// <exception cref="ArgumentOutOfRangeException">A position lies outside the table.</exception>
    public void ApplyRotary(ArrayView<float> qkv, int rows, ArrayView<int> positions, int queryHeads, int kvHeads, int headSize, ArrayView<float> table)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(queryHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headSize);
        if (headSize % 2 != 0)
        {
            throw new ArgumentException($"Rotary embeddings need an even head size, not {headSize}.", nameof(headSize));
        }

        CheckAtLeast(qkv, (long)rows * (queryHeads + (2 * kvHeads)) * headSize, nameof(qkv));
        CheckAtLeast(positions, rows, nameof(positions));
        CheckAtLeast(table, headSize, nameof(table));
        ApplyRotaryCore(qkv, rows, positions, queryHeads, kvHeads, headSize, table);
    }

    /// <summary>
    /// <c>output[r, i] = silu(gateUp[r, i]) · gateUp[r, width + i]</c> for <paramref name="rows"/> rows:
    /// the SwiGLU of a fused <c>[gate | up]</c> projection, where <c>silu(x) = x / (1 + e^−x)</c>.
    /// </summary>
    public void SwiGlu(ArrayView<float> gateUp, int rows, int width, ArrayView<float> output)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        CheckAtLeast(gateUp, (long)rows * 2 * width, nameof(gateUp));
        CheckAtLeast(output, (long)rows * width, nameof(output));
        SwiGluCore(gateUp, rows, width, output);
    }

    /// <summary>
    /// <see cref="WriteKv(ArrayView{float}, int, ArrayView{int}, ArrayView{int}, ArrayView{float}, KvCacheLayout, int)"/> for grouped-query rows <c>[q: queryHeads | k | v]</c>, where the key and value parts
    /// hold <see cref="KvCacheLayout.HeadCount"/> heads each (the cache is sized by key/value heads).
    /// </summary>
    public void WriteGroupedKv(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer)
    {
        CheckGroupedArguments(qkv, rows, queryHeads, slots, positions, cache, layout, layer, single: true);
        WriteGroupedKvCore(qkv, rows, queryHeads, slots, positions, cache, layout, layer);
    }

    /// <summary>
    /// <see cref="WriteGroupedKv(ArrayView{float}, int, int, ArrayView{int}, ArrayView{int}, ArrayView{float}, KvCacheLayout, int)"/>
    /// into an F16 or BF16 cache: each key and value rounded to nearest even, as the GPT-2 cache rounds them.
    /// </summary>
    public void WriteGroupedKv(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer)
    {
        CheckGroupedArguments(qkv, rows, queryHeads, slots, positions, cache, layout, layer, single: false);
        WriteGroupedKvCore(qkv, rows, queryHeads, slots, positions, cache, layout, layer);
    }

    /// <summary>
    /// <see cref="Attention(ArrayView{float}, int, ArrayView{int}, ArrayView{int}, ArrayView{float}, KvCacheLayout, int, ArrayView{float})"/> for grouped-query rows: query head h attends key/value head
    /// <c>h / (queryHeads / layout.HeadCount)</c>; writes <paramref name="queryHeads"/> × head-size per row.
    /// </summary>
    public void GroupedAttention(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer, ArrayView<float> output)
    {
        CheckGroupedArguments(qkv, rows, queryHeads, slots, positions, cache, layout, layer, single: true);
        CheckAtLeast(output, (long)rows * queryHeads * layout.HeadSize, nameof(output));
        GroupedAttentionCore(qkv, rows, queryHeads, slots, positions, cache, layout, layer, output);
    }

    /// <summary>
    /// <see cref="GroupedAttention(ArrayView{float}, int, int, ArrayView{int}, ArrayView{int}, ArrayView{float}, KvCacheLayout, int, ArrayView{float})"/>
    /// over an F16 or BF16 cache, its keys and values widened exactly to F32 in the same FMA chains.
    /// </summary>
    public void GroupedAttention(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer, ArrayView<float> output)
    {
        CheckGroupedArguments(qkv, rows, queryHeads, slots, positions, cache, layout, layer, single: false);
        CheckAtLeast(output, (long)rows * queryHeads * layout.HeadSize, nameof(output));
        GroupedAttentionCore(qkv, rows, queryHeads, slots, positions, cache, layout, layer, output);
    }

    /// <summary>Runs a checked <see cref="RmsNorm"/>.</summary>
    protected abstract void RmsNormCore(ArrayView<float> input, ArrayView<float> output, int rows, int width, ArrayView<float> gain, float epsilon);

    /// <summary>Runs a checked <see cref="ApplyRotary"/>.</summary>
    protected abstract void ApplyRotaryCore(ArrayView<float> qkv, int rows, ArrayView<int> positions, int queryHeads, int kvHeads, int headSize, ArrayView<float> table);

    /// <summary>Runs a checked <see cref="SwiGlu"/>.</summary>
    protected abstract void SwiGluCore(ArrayView<float> gateUp, int rows, int width, ArrayView<float> output);

    /// <summary>Runs a checked grouped store into an F32 cache.</summary>
    protected abstract void WriteGroupedKvCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer);

    /// <summary>Runs a checked grouped attention over an F32 cache.</summary>
    protected abstract void GroupedAttentionCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer, ArrayView<float> output);

    /// <summary>Runs a checked grouped store into an F16 or BF16 cache.</summary>
    protected abstract void WriteGroupedKvCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer);

    /// <summary>Runs a checked grouped attention over an F16 or BF16 cache.</summary>
    protected abstract void GroupedAttentionCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<ushort> cache, KvCacheLayout layout, int layer, ArrayView<float> output);

    private void CheckGroupedArguments<T>(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<T> cache, KvCacheLayout layout, int layer, bool single)
        where T : unmanaged
    {
        layout.Validate();
        if ((layout.ElementType == TensorDType.F32) != single)
        {
            throw new ArgumentException($"A KV cache of {layout.ElementType} elements is a view of {(single ? "ushort bits" : "float")}, not {typeof(T).Name}.", nameof(cache));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(queryHeads);
        if (queryHeads % layout.HeadCount != 0)
        {
            throw new ArgumentException($"{queryHeads} query heads are not a multiple of the cache's {layout.HeadCount} key/value heads.", nameof(queryHeads));
        }

        if ((uint)layer >= (uint)layout.LayerCount)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The cache has {layout.LayerCount} layers.");
        }

        CheckAtLeast(qkv, (long)rows * (queryHeads + (2 * layout.HeadCount)) * layout.HeadSize, nameof(qkv));
        CheckAtLeast(slots, rows, nameof(slots));
        CheckAtLeast(positions, rows, nameof(positions));
        CheckAtLeast(cache, layout.ElementCount, nameof(cache));
    }
}
