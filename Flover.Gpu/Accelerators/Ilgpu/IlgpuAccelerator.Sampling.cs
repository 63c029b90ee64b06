using Flover.Gpu.Kernels.Ilgpu;
using Flover.Gpu.Sampling;
using ILGPU;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>Sampling on the device: each row's parameters and edits go up, its id is written where the logits are.</summary>
public sealed partial class IlgpuAccelerator
{
    private MemoryBuffer<SamplingRow>? _samplingRows;
    private MemoryBuffer<DeviceLogitEdit>? _samplingEdits;
    private MemoryBuffer<float>? _samplingWeights;
    private MemoryBuffer<float>? _samplingRaw;
    private MemoryBuffer<int>? _noInts;
    private SamplingRow[] _hostSamplingRows = [];
    private DeviceLogitEdit[] _hostEdits = [];

    /// <inheritdoc />
    protected override void SampleRowsCore(ArrayView<float> logits, int rowWidth, ReadOnlySpan<RowSampling?> rows, ArrayView<int> output, ArrayView<float> logprobs, ArrayView<int> topIds)
    {
        int edits = Stage(rows, out bool anyLogprobs);
        if (edits < 0)
        {
            return;
        }

        // The parameters (a few dozen bytes a row) and the edits (one per penalised token) are all that
        // goes up, into the leading part of buffers that grow and are never shrunk.
        MemoryBuffer<SamplingRow> rowBuffer = Scratch(ref _samplingRows, rows.Length);
        MemoryBuffer<DeviceLogitEdit> editBuffer = Scratch(ref _samplingEdits, Math.Max(edits, 1));
        MemoryBuffer<float> weights = Scratch(ref _samplingWeights, (long)rows.Length * rowWidth);
        MemoryBuffer<float> raw = Scratch(ref _samplingRaw, anyLogprobs ? (long)rows.Length * rowWidth : 1);
        MemoryBuffer<int> noInts = Scratch(ref _noInts, 1);
        CopyFromCpu<SamplingRow>(_hostSamplingRows.AsSpan(0, rows.Length), rowBuffer.View.SubView(0, rows.Length));
        if (edits > 0)
        {
            CopyFromCpu<DeviceLogitEdit>(_hostEdits.AsSpan(0, edits), editBuffer.View.SubView(0, edits));
        }

        Begin("SampleRows");
        Launch(nameof(SamplingKernels.Sample));
        _kernels.Sample(new KernelConfig(rows.Length, _kernels.NormGroupSize), new SampleArgs
        {
            Logits = View(logits),
            Weights = View(weights.View),
            Raw = View(raw.View),
            Logprobs = anyLogprobs ? View(logprobs) : _shared.NoFloats.View.AsContiguous(),
            TopIds = anyLogprobs ? View(topIds) : View(noInts.View),
            Rows = View(rowBuffer.View),
            Edits = View(editBuffer.View),
            Output = View(output),
            RowWidth = rowWidth,
        });
        End();
    }

    /// <summary>Lays the rows out for the device; returns the edits staged, or −1 when no row is sampled.</summary>
    private int Stage(ReadOnlySpan<RowSampling?> rows, out bool anyLogprobs)
    {
        anyLogprobs = false;
        if (_hostSamplingRows.Length < rows.Length)
        {
            _hostSamplingRows = new SamplingRow[rows.Length];
        }

        int edits = 0;
        bool any = false;
        for (int r = 0; r < rows.Length; r++)
        {
            if (rows[r] is not { } sampling)
            {
                _hostSamplingRows[r] = default;
                continue;
            }

            any = true;
            anyLogprobs |= sampling.Logprobs >= 0;
            ReadOnlySpan<LogitEdit> rowEdits = sampling.Edits.Span;
            if (_hostEdits.Length < edits + rowEdits.Length)
            {
                Array.Resize(ref _hostEdits, Math.Max(2 * _hostEdits.Length, edits + rowEdits.Length));
            }

            _hostSamplingRows[r] = new SamplingRow
            {
                Candidates = sampling.Candidates,
                TopK = sampling.TopK,
                Temperature = sampling.Temperature,
                TopP = sampling.TopP,
                Draw = sampling.Draw,
                Logprobs = sampling.Logprobs,
                EditStart = edits,
                EditCount = rowEdits.Length,
            };
            foreach (LogitEdit edit in rowEdits)
            {
                _hostEdits[edits++] = new DeviceLogitEdit { Token = edit.Token, Kinds = (int)edit.Kinds, RepetitionPenalty = edit.RepetitionPenalty, Subtract = edit.Subtract, Bias = edit.Bias };
            }
        }

        return any ? edits : -1;
    }
}
