using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>RMS norm, chunks of rows spread over workers; each row is normalised by the same fixed-order sum of squares.</summary>
internal sealed unsafe class RmsNormKernel : IWorkerJob
{
    private float* _input;
    private float* _output;
    private int _rows;
    private int _width;
    private float* _gain;
    private float _epsilon;
    private int _rowsPerChunk;

    public int ChunkCount { get; private set; }

    public void Set(float* input, float* output, int rows, int width, float* gain, float epsilon, int rowsPerChunk)
    {
        _rowsPerChunk = rowsPerChunk;
        ChunkCount = (rows + rowsPerChunk - 1) / rowsPerChunk;
        _input = input;
        _output = output;
        _rows = rows;
        _width = width;
        _gain = gain;
        _epsilon = epsilon;
    }

    public void Execute(int chunk, int worker)
    {
        int first = chunk * _rowsPerChunk;
        int end = Math.Min(first + _rowsPerChunk, _rows);
        for (int row = first; row < end; row++)
        {
            float* x = _input + ((long)row * _width);
            float* y = _output + ((long)row * _width);
            float inverse = 1f / MathF.Sqrt((VectorMath.Dot(x, x, _width) / _width) + _epsilon);
            for (int i = 0; i < _width; i++)
            {
                // Hugging Face's order: normalise first, then scale by the gain.
                y[i] = _gain[i] * (x[i] * inverse);
            }
        }
    }
}

/// <summary>The element-wise LLaMA kernels: rotary embeddings and SwiGLU, each element in a fixed order of its own.</summary>
internal static unsafe class LlamaRowKernels
{
    public static void ApplyRotary(float* qkv, int rows, int* positions, int queryHeads, int kvHeads, int headSize, float* table, long tableLength)
    {
        int half = headSize / 2;
        int rowWidth = (queryHeads + (2 * kvHeads)) * headSize;
        long tablePositions = tableLength / headSize;
        for (int row = 0; row < rows; row++)
        {
            int position = positions[row];
            if ((uint)position >= (ulong)tablePositions)
            {
                throw new ArgumentOutOfRangeException(nameof(positions), position, $"Row {row}'s position lies outside the rotary table of {tablePositions} positions.");
            }

            float* cos = table + ((long)position * headSize);
            float* sin = cos + half;
            float* head = qkv + ((long)row * rowWidth);
            // Query heads then key heads, contiguous; the value heads after them are not rotated.
            for (int h = 0; h < queryHeads + kvHeads; h++, head += headSize)
            {
                for (int i = 0; i < half; i++)
                {
                    float x1 = head[i];
                    float x2 = head[i + half];
                    head[i] = (x1 * cos[i]) - (x2 * sin[i]);
                    head[i + half] = (x2 * cos[i]) + (x1 * sin[i]);
                }
            }
        }
    }

    public static void SwiGlu(float* gateUp, int rows, int width, float* output)
    {
        for (int row = 0; row < rows; row++)
        {
            float* gate = gateUp + ((long)row * 2 * width);
            float* up = gate + width;
            float* y = output + ((long)row * width);
            for (int i = 0; i < width; i++)
            {
                float g = gate[i];
                y[i] = g / (1f + MathF.Exp(-g)) * up[i];
            }
        }
    }
}
