using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Kernels.Cpu;

/// <summary>Layer norm, chunks of rows spread over workers; each row is normalised by the same fixed-order sums.</summary>
internal sealed unsafe class LayerNormKernel : RowNormKernel
{
    private float* _gain;
    private float* _bias;
    private float _epsilon;

    public void Set(float* input, float* output, int rows, int width, float* gain, float* bias, float epsilon, int rowsPerChunk)
    {
        SetRows(input, output, rows, width, rowsPerChunk);
        _gain = gain;
        _bias = bias;
        _epsilon = epsilon;
    }

    protected override void NormalizeRow(float* x, float* y)
    {
        int width = Width;
        float mean = VectorMath.Sum(x, width) / width;
        float variance = VectorMath.SumOfSquaredDeviations(x, width, mean) / width;
        float inverse = 1f / MathF.Sqrt(variance + _epsilon);
        for (int i = 0; i < width; i++)
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
