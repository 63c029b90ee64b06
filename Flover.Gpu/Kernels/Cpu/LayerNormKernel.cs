using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>Layer norm, chunks of rows spread over workers; each row is normalised by the same fixed-order sums.</summary>
internal sealed unsafe class LayerNormKernel : IWorkerJob
{
    private float* _input;
    private float* _output;
    private int _rows;
    private int _width;
    private float* _gain;
    private float* _bias;
    private float _epsilon;
    private int _rowsPerChunk;

    public int ChunkCount { get; private set; }

    public void Set(float* input, float* output, int rows, int width, float* gain, float* bias, float epsilon, int rowsPerChunk)
    {
        _rowsPerChunk = rowsPerChunk;
        ChunkCount = (rows + rowsPerChunk - 1) / rowsPerChunk;
        _input = input;
        _output = output;
        _rows = rows;
        _width = width;
        _gain = gain;
        _bias = bias;
        _epsilon = epsilon;
    }

    public void Execute(int chunk, int worker)
    {
        int first = chunk * _rowsPerChunk;
        int end = Math.Min(first + _rowsPerChunk, _rows);
        for (int row = first; row < end; row++)
        {
            Normalize(_input + ((long)row * _width), _output + ((long)row * _width));
        }
    }

    private void Normalize(float* x, float* y)
    {
        float mean = VectorMath.Sum(x, _width) / _width;
        float variance = VectorMath.SumOfSquaredDeviations(x, _width, mean) / _width;
        float inverse = 1f / MathF.Sqrt(variance + _epsilon);
        for (int i = 0; i < _width; i++)
        {
            y[i] = ((x[i] - mean) * inverse * _gain[i]) + _bias[i];
        }
    }
}

/// <summary>An activation applied in place, chunks of elements spread over workers.</summary>
internal sealed unsafe class ActivationKernel : IWorkerJob
{
    private float* _values;
    private long _length;
    private KernelActivation _activation;
    private long _elementsPerChunk;

    public int ChunkCount { get; private set; }

    public void Set(float* values, long length, KernelActivation activation, long elementsPerChunk)
    {
        _elementsPerChunk = elementsPerChunk;
        ChunkCount = checked((int)((length + elementsPerChunk - 1) / elementsPerChunk));
        _values = values;
        _length = length;
        _activation = activation;
    }

    public void Execute(int chunk, int worker)
    {
        long first = chunk * _elementsPerChunk;
        long end = Math.Min(first + _elementsPerChunk, _length);
        for (long i = first; i < end; i++)
        {
            _values[i] = ScalarMath.Activate(_values[i], _activation);
        }
    }
}
