using Flover.Gpu.Sampling;

namespace Flover.Gpu.Accelerators;

/// <summary>Sampling where the logits are, so only token ids cross to the host.</summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// Chooses the next token of each row that has a <see cref="RowSampling"/> (the others are left
    /// alone): the row's logit edits, then greedy at temperature 0, else temperature, top-k, top-p and
    /// the inverse-CDF pick of the row's counter-based draw, as <see cref="RequestSampler.Sample"/>
    /// chooses on the same logits. Writes the id, −2 − i for a row whose first NaN is at i, or −1 when
    /// every candidate is banned. The CPU runs the host sampler itself; a device runs a group per row
    /// whose sums are reduced in a different (fixed) order, so its id can differ from the host's only
    /// where the draw falls within rounding of the boundary between two tokens' cumulative weights.
    /// </summary>
    /// <param name="logits">rows.Length × <paramref name="rowWidth"/> values; a sampled row's candidates are overwritten (its edited values, or its weights).</param>
    /// <param name="rowWidth">Values from one row's start to the next's.</param>
    /// <param name="rows">Each row's sampling, or null for a row not sampled here.</param>
    /// <param name="output">One id per row.</param>
    /// <param name="logprobs">
    /// For rows asking for them (<see cref="RowSampling.Logprobs"/>), <see cref="RowSampling.LogprobsPerRow"/> floats
    /// a row: the chosen token's log-probability, then the top alternatives' (best first); the default view when no row asks.
    /// </param>
    /// <param name="topIds">The top alternatives' ids, <see cref="RowSampling.MaxTopLogprobs"/> a row; the default view when no row asks.</param>
    public void SampleRows(ArrayView<float> logits, int rowWidth, ReadOnlySpan<RowSampling?> rows, ArrayView<int> output, ArrayView<float> logprobs = default, ArrayView<int> topIds = default)
    {
        bool anyLogprobs = false;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowWidth);
        foreach (RowSampling? row in rows)
        {
            if (row is null)
            {
                continue;
            }

            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(row.Candidates, nameof(rows));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(row.Candidates, rowWidth, nameof(rows));
            ArgumentOutOfRangeException.ThrowIfLessThan(row.Logprobs, -1, nameof(rows));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(row.Logprobs, RowSampling.MaxTopLogprobs, nameof(rows));
            anyLogprobs |= row.Logprobs >= 0;
            foreach (LogitEdit edit in row.Edits.Span)
            {
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)edit.Token, (uint)row.Candidates, nameof(rows));
            }
        }

        CheckAtLeast(logits, (long)rows.Length * rowWidth, nameof(logits));
        CheckAtLeast(output, rows.Length, nameof(output));
        if (anyLogprobs)
        {
            CheckAtLeast(logprobs, (long)rows.Length * RowSampling.LogprobsPerRow, nameof(logprobs));
            CheckAtLeast(topIds, (long)rows.Length * RowSampling.MaxTopLogprobs, nameof(topIds));
        }

        SampleRowsCore(logits, rowWidth, rows, output, logprobs, topIds);
    }

    /// <summary>Runs a checked <see cref="SampleRows"/>.</summary>
    protected abstract void SampleRowsCore(ArrayView<float> logits, int rowWidth, ReadOnlySpan<RowSampling?> rows, ArrayView<int> output, ArrayView<float> logprobs, ArrayView<int> topIds);
}
