using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>The arguments of the embedding lookups.</summary>
internal struct EmbedArgs
{
    public ArrayView<int> Tokens;
    public ArrayView<int> Positions;

    /// <summary>A flat [vocabulary][width] table, or the [width][vocabulary] columns of a tied head.</summary>
    public ArrayView<float> Table;
    public WeightView Columns;
    public ArrayView<float> PositionTable;
    public ArrayView<float> Output;
    public int Width;
    public int TokenCount;
    public int PositionCount;

    /// <summary>The first token of a vocabulary slice (<see cref="RowKernels.EmbedVocabularySlice"/>).</summary>
    public int FirstToken;
}

/// <summary>
/// Per-row data movement: embedding lookups, KV stores and row gathers, one thread per element.
/// Device code cannot throw, so an index outside its table yields zeros; the model checks tokens,
/// positions and slots on the host before they are staged, so this never happens in a step.
/// </summary>
internal static class RowKernels
{
    /// <summary><c>output[r, c] = table[tokens[r], c] + positions[positions[r], c]</c>. Index: (c, r).</summary>
    public static void Embed(Index2D index, EmbedArgs a)
    {
        int token = a.Tokens[index.Y];
        int position = a.Positions[index.Y];
        long at = ((long)index.Y * a.Width) + index.X;
        a.Output[at] = (uint)token < (uint)a.TokenCount && (uint)position < (uint)a.PositionCount
            ? a.Table[((long)token * a.Width) + index.X] + a.PositionTable[((long)position * a.Width) + index.X]
            : 0f;
    }

    /// <summary>As <see cref="Embed"/> with the token vector read from column <c>tokens[r]</c> of a tied head. Index: (c, r).</summary>
    public static void EmbedColumns(Index2D index, EmbedArgs a)
    {
        int token = a.Tokens[index.Y];
        int position = a.Positions[index.Y];
        long at = ((long)index.Y * a.Width) + index.X;
        a.Output[at] = (uint)token < (uint)a.TokenCount && (uint)position < (uint)a.PositionCount
            ? a.Columns.Load(((long)index.X * a.TokenCount) + token) + a.PositionTable[((long)position * a.Width) + index.X]
            : 0f;
    }

    /// <summary>Column <c>tokens[r] − first</c> of a shard's slice of a tied head, or zeros outside the slice. Index: (c, r).</summary>
    public static void EmbedVocabularySlice(Index2D index, EmbedArgs a)
    {
        int column = a.Tokens[index.Y] - a.FirstToken;
        a.Output[((long)index.Y * a.Width) + index.X] = (uint)column < (uint)a.TokenCount
            ? a.Columns.Load(((long)index.X * a.TokenCount) + column)
            : 0f;
    }

    /// <summary><c>output[r, c] += positionTable[positions[r], c]</c>. Index: (c, r).</summary>
    public static void AddPositionEmbeddings(Index2D index, EmbedArgs a)
    {
        int position = a.Positions[index.Y];
        if ((uint)position < (uint)a.PositionCount)
        {
            long at = ((long)index.Y * a.Width) + index.X;
            a.Output[at] = a.Output[at] + a.PositionTable[((long)position * a.Width) + index.X];
        }
    }

    /// <summary><c>output[i, c] = input[rows[i], c]</c>. Index: (c, i).</summary>
    public static void GatherRows(Index2D index, ArrayView<float> input, ArrayView<int> rowIndices, ArrayView<float> output, int width)
    {
        long source = ((long)rowIndices[index.Y] * width) + index.X;
        output[((long)index.Y * width) + index.X] = source >= 0 && source < input.Length ? input[source] : 0f;
    }

    /// <summary>
    /// Stores element c of row r's keys and values (the k and v parts of its fused QKV row) at its
    /// slot and position of one layer. Index: (c over heads × head size, r).
    /// </summary>
    public static void WriteKv(Index2D index, KvArgs a)
    {
        int slot = a.Slots[index.Y];
        int position = a.Positions[index.Y];
        if ((uint)slot >= (uint)a.SlotCount || (uint)position >= (uint)a.SlotCapacity)
        {
            return;
        }

        int width = a.HeadCount * a.HeadSize;
        int head = index.X / a.HeadSize;
        int d = index.X - (head * a.HeadSize);
        // Keys follow the query heads: [q: QueryHeads | k: HeadCount | v: HeadCount].
        long keys = ((long)index.Y * a.RowWidth) + ((long)a.QueryHeads * a.HeadSize);
        long key = a.KeyOffset(slot, head) + ((long)position * a.HeadSize) + d;
        a.Cache.Store(key, a.Qkv[keys + index.X]);
        a.Cache.Store(key + a.KvStride, a.Qkv[keys + width + index.X]);
    }
}
