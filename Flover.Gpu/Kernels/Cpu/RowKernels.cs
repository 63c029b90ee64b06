using System.Runtime.Intrinsics;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>Per-row data movement: embedding lookup, KV stores and row gathers (memory-bound, small).</summary>
internal static unsafe class RowKernels
{
    public static void Embed(int* tokens, int* positions, int rows, float* tokenTable, long tokenCount, float* positionTable, long positionCount, float* output, int width)
    {
        for (int row = 0; row < rows; row++)
        {
            int token = tokens[row];
            int position = positions[row];
            if ((ulong)token >= (ulong)tokenCount)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), token, $"Token id of row {row} is outside the vocabulary of {tokenCount}.");
            }

            if ((ulong)position >= (ulong)positionCount)
            {
                throw new ArgumentOutOfRangeException(nameof(positions), position, $"Position of row {row} is outside the {positionCount} learned positions.");
            }

            float* a = tokenTable + ((long)token * width);
            float* b = positionTable + ((long)position * width);
            float* y = output + ((long)row * width);
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
    }

    public static void WriteKv(float* qkv, int rows, int* slots, int* positions, float* cache, KvCacheLayout layout, int layer)
    {
        int size = layout.HeadSize;
        int width = layout.HeadCount * size;
        long bytes = (long)size * sizeof(float);
        for (int row = 0; row < rows; row++)
        {
            int slot = slots[row];
            int position = positions[row];
            if ((uint)slot >= (uint)layout.SlotCount || (uint)position >= (uint)layout.SlotCapacity)
            {
                throw new ArgumentOutOfRangeException(nameof(slots), $"Row {row} targets slot {slot} position {position}; the cache has {layout.SlotCount} slots of {layout.SlotCapacity} positions.");
            }

            float* source = qkv + ((long)row * 3 * width);
            for (int head = 0; head < layout.HeadCount; head++)
            {
                Buffer.MemoryCopy(source + width + (head * size), cache + layout.Offset(slot, layer, 0, head, position), bytes, bytes);
                Buffer.MemoryCopy(source + (2 * width) + (head * size), cache + layout.Offset(slot, layer, 1, head, position), bytes, bytes);
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
}
