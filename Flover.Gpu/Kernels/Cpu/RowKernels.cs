using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>Per-row data movement: embedding lookup, KV stores and row gathers (memory-bound, small).</summary>
internal static unsafe class RowKernels
{
    /// <summary>Embedding lookup whose token vectors are the columns of a tied LM head (see <see cref="CpuMatrix.ReadColumn"/>).</summary>
    public static void EmbedColumns(int* tokens, int* positions, int rows, CpuMatrix tokenColumns, float* positionTable, long positionCount, float* output)
    {
        int width = tokenColumns.InputSize;
        for (int row = 0; row < rows; row++)
        {
            CheckRow(tokens[row], positions[row], row, tokenColumns.OutputSize, positionCount);
            float* y = output + ((long)row * width);
            // The token's vector is gathered straight into the output row, then the position added in
            // place: the same single rounding per element as the flat-table lookup.
            tokenColumns.ReadColumn(tokens[row], y);
            Add(y, positionTable + ((long)positions[row] * width), y, width);
        }
    }

    public static void EmbedVocabularySlice(int* tokens, int rows, CpuMatrix tokenColumns, int firstToken, float* output)
    {
        int width = tokenColumns.InputSize;
        for (int row = 0; row < rows; row++)
        {
            float* y = output + ((long)row * width);
            int column = tokens[row] - firstToken;
            if ((uint)column < (uint)tokenColumns.OutputSize)
            {
                tokenColumns.ReadColumn(column, y);
            }
            else
            {
                new Span<float>(y, width).Clear();
            }
        }
    }

    public static void AddPositionEmbeddings(int* positions, int rows, float* positionTable, long positionCount, float* output, int width)
    {
        for (int row = 0; row < rows; row++)
        {
            int position = positions[row];
            if ((ulong)position >= (ulong)positionCount)
            {
                throw new ArgumentOutOfRangeException("positions", position, $"Position of row {row} is outside the {positionCount} learned positions.");
            }

            float* y = output + ((long)row * width);
            Add(y, positionTable + ((long)position * width), y, width);
        }
    }

    public static void Embed(int* tokens, int* positions, int rows, float* tokenTable, long tokenCount, float* positionTable, long positionCount, float* output, int width)
    {
        for (int row = 0; row < rows; row++)
        {
            int token = tokens[row];
            int position = positions[row];
            CheckRow(token, position, row, tokenCount, positionCount);

            Add(tokenTable + ((long)token * width), positionTable + ((long)position * width), output + ((long)row * width), width);
        }
    }

    public static void AddBiasAndResidual(float* values, int rows, int width, float* bias, float* residual)
    {
        for (int row = 0; row < rows; row++)
        {
            float* x = values + ((long)row * width);
            float* y = residual + ((long)row * width);
            int i = 0;
            for (; i + Vector256<float>.Count <= width; i += Vector256<float>.Count)
            {
                (Vector256.Load(y + i) + (Vector256.Load(x + i) + Vector256.Load(bias + i))).Store(y + i);
            }

            for (; i < width; i++)
            {
                y[i] += x[i] + bias[i];
            }
        }
    }

    private static void CheckRow(int token, int position, int row, long tokenCount, long positionCount)
    {
        if ((ulong)token >= (ulong)tokenCount)
        {
            throw new ArgumentOutOfRangeException("tokens", token, $"Token id of row {row} is outside the vocabulary of {tokenCount}.");
        }

        if ((ulong)position >= (ulong)positionCount)
        {
            throw new ArgumentOutOfRangeException("positions", position, $"Position of row {row} is outside the {positionCount} learned positions.");
        }
    }

    /// <summary><c>y = a + b</c> element-wise; <paramref name="y"/> may be <paramref name="a"/>.</summary>
    private static void Add(float* a, float* b, float* y, int width)
    {
        int i = 0;
        for (; i + Vector256<float>.Count <= width; i += Vector256<float>.Count)
        {
            (Vector256.Load(a + i) + Vector256.Load(b + i)).Store(y + i);
        }

        for (; i < width; i++)
        {
            y[i] = a[i] + b[i];
        }
    }

    /// <summary>Stores the key and value parts of fused <c>[q: queryHeads | k | v]</c> rows (GPT-2: as many query heads as the cache's).</summary>
    public static void WriteKv(float* qkv, int rows, int queryHeads, int* slots, int* positions, float* cache, KvCacheLayout layout, int layer)
    {
        int size = layout.HeadSize;
        int width = layout.HeadCount * size;
        int queryWidth = queryHeads * size;
        long bytes = (long)size * sizeof(float);
        for (int row = 0; row < rows; row++)
        {
            int slot = slots[row];
            int position = positions[row];
            if ((uint)slot >= (uint)layout.SlotCount || (uint)position >= (uint)layout.SlotCapacity)
            {
                throw new ArgumentOutOfRangeException(nameof(slots), $"Row {row} targets slot {slot} position {position}; the cache has {layout.SlotCount} slots of {layout.SlotCapacity} positions.");
            }

            float* source = qkv + ((long)row * (queryWidth + (2 * width)));
            for (int head = 0; head < layout.HeadCount; head++)
            {
                Buffer.MemoryCopy(source + queryWidth + (head * size), cache + layout.Offset(slot, layer, 0, head, position), bytes, bytes);
                Buffer.MemoryCopy(source + queryWidth + width + (head * size), cache + layout.Offset(slot, layer, 1, head, position), bytes, bytes);
            }
        }
    }

    /// <summary>
    /// Stores keys and values into an F16 or BF16 cache, each rounded to nearest even by the
    /// conversions the weights use, so a position's bits depend on its own values only.
    /// </summary>
    public static void WriteKv(float* qkv, int rows, int queryHeads, int* slots, int* positions, ushort* cache, KvCacheLayout layout, int layer)
    {
        int size = layout.HeadSize;
        int width = layout.HeadCount * size;
        int queryWidth = queryHeads * size;
        bool brain = layout.ElementType == TensorDType.BF16;
        for (int row = 0; row < rows; row++)
        {
            int slot = slots[row];
            int position = positions[row];
            if ((uint)slot >= (uint)layout.SlotCount || (uint)position >= (uint)layout.SlotCapacity)
            {
                throw new ArgumentOutOfRangeException(nameof(slots), $"Row {row} targets slot {slot} position {position}; the cache has {layout.SlotCount} slots of {layout.SlotCapacity} positions.");
            }

            // Rows are [q: queryHeads | k | v]; k and v hold the cache's heads (fewer than q's with GQA).
            float* source = qkv + ((long)row * (queryWidth + (2 * width)));
            for (int head = 0; head < layout.HeadCount; head++)
            {
                ushort* keys = cache + layout.Offset(slot, layer, 0, head, position);
                ushort* values = cache + layout.Offset(slot, layer, 1, head, position);
                float* key = source + queryWidth + (head * size);
                float* value = source + queryWidth + width + (head * size);
                if (!brain)
                {
                    // The vectorised form of (Half)x, round to nearest even: the same bits as NarrowToF16.
                    TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(key, size), new Span<Half>(keys, size));
                    TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(value, size), new Span<Half>(values, size));
                    continue;
                }

                for (int d = 0; d < size; d++)
                {
                    keys[d] = BFloat16Bits.FromSingle(key[d]);
                    values[d] = BFloat16Bits.FromSingle(value[d]);
                }
            }
        }
    }

    public static void GatherRows(float* input, long inputLength, int* rowIndices, int count, int width, float* output)
    {
        long bytes = (long)width * sizeof(float);
        for (int i = 0; i < count; i++)
        {
            long start = (long)rowIndices[i] * width;
            if (rowIndices[i] < 0 || start + width > inputLength)
            {
                throw new ArgumentOutOfRangeException(nameof(rowIndices), rowIndices[i], $"Row index {i} lies outside the input of {inputLength / width} rows.");
            }

            Buffer.MemoryCopy(input + start, output + ((long)i * width), bytes, bytes);
        }
    }

    /// <summary>
    /// The host sampler's greedy choice on each row's first <paramref name="candidates"/> values: the
    /// first index of the greatest; −2 − (first NaN's index) for a row holding a NaN; −1 where the
    /// greatest is −∞.
    /// </summary>
    public static void ArgMaxRows(float* logits, int rows, int rowWidth, int candidates, int* output)
    {
        for (int row = 0; row < rows; row++)
        {
            var values = new ReadOnlySpan<float>(logits + ((long)row * rowWidth), candidates);
            int nan = values.IndexOfAnyExceptInRange(float.NegativeInfinity, float.PositiveInfinity);
            if (nan >= 0)
            {
                output[row] = -2 - nan;
                continue;
            }

            int best = 0;
            for (int i = 1; i < values.Length; i++)
            {
                if (values[i] > values[best])
                {
                    best = i;
                }
            }

            output[row] = float.IsNegativeInfinity(values[best]) ? -1 : best;
        }
    }
}
