using ILGPU;

namespace Flover.Gpu.Kernels.Ilgpu;

/// <summary>One row's <see cref="Sampling.RowSampling"/> on the device; <see cref="Candidates"/> 0 marks a row not sampled.</summary>
internal struct SamplingRow
{
    public int Candidates;
    public int TopK;
    public float Temperature;
    public float TopP;
    public double Draw;

    /// <summary>Top alternatives to report with the chosen token's log-probability, or −1 for none.</summary>
    public int Logprobs;

    /// <summary>The row's edits: <see cref="SampleArgs.Edits"/>[EditStart .. EditStart + EditCount).</summary>
    public int EditStart;
    public int EditCount;
}

/// <summary>A <see cref="Sampling.LogitEdit"/> on the device (its kinds as an int).</summary>
internal struct DeviceLogitEdit
{
    public int Token;
    public int Kinds;
    public float RepetitionPenalty;
    public float Subtract;
    public float Bias;
}

/// <summary>The arguments of <see cref="SamplingKernels.Sample"/>.</summary>
internal struct SampleArgs
{
    /// <summary>The logits, edited in place.</summary>
    public ArrayView<float> Logits;

    /// <summary>Each row's weights (rows × <see cref="RowWidth"/>).</summary>
    public ArrayView<float> Weights;

    /// <summary>A copy of the raw logits of each row asking for logprobs (rows × <see cref="RowWidth"/>; one float when none does).</summary>
    public ArrayView<float> Raw;

    /// <summary>Per row: the chosen token's log-probability, then the top alternatives' (<see cref="Sampling.RowSampling.LogprobsPerRow"/> a row).</summary>
    public ArrayView<float> Logprobs;

    /// <summary>Per row: the top alternatives' ids (<see cref="Sampling.RowSampling.MaxTopLogprobs"/> a row).</summary>
    public ArrayView<int> TopIds;
    public ArrayView<SamplingRow> Rows;
    public ArrayView<DeviceLogitEdit> Edits;
    public ArrayView<int> Output;

    /// <summary>Floats from one row's start to the next's.</summary>
    public int RowWidth;
}
