using Flover.Gpu.Sampling;

namespace Flover.Gpu.Models;

/// <summary>
/// The logits rows of one <see cref="IModel"/> call, in host memory. The model reuses the storage, so
/// rows are valid only until its next call: read or copy them first.
/// </summary>
public sealed class ModelLogits
{
    /// <summary>The mark of a row whose logits came to the host (no choice made on the device).</summary>
    private const int NotChosen = int.MinValue;

    private float[] _values = [];
    private int[] _promptFirstRows = [];
    private int[] _chosen = [];
    private (float Logprob, TokenLogprob[] Top)?[] _chosenLogprobs = [];

    internal ModelLogits(int vocabularySize)
    {
        VocabularySize = vocabularySize;
    }

    /// <summary>Width of every row.</summary>
    public int VocabularySize { get; }

    /// <summary>Rows held.</summary>
    public int RowCount { get; private set; }

    /// <summary>Prompts of the prefill that produced these rows (the row count for a decode).</summary>
    public int PromptCount { get; private set; }

    /// <summary>Logits of row <paramref name="row"/>.</summary>
    /// <exception cref="InvalidOperationException">The row was chosen on the device (<see cref="IsChosenOnDevice"/>): its logits stayed there.</exception>
    public ReadOnlySpan<float> Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)RowCount, nameof(row));
        return _chosen[row] == NotChosen
            ? new ReadOnlySpan<float>(_values, row * VocabularySize, VocabularySize)
            : throw new InvalidOperationException($"Row {row} was chosen on the device (DecodeRow.ChooseAmong); its logits stayed there.");
    }

    /// <summary>Whether row <paramref name="row"/> was chosen on the device (<see cref="DecodeRow.ChooseAmong"/>): only its choice came back.</summary>
    public bool IsChosenOnDevice(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)RowCount, nameof(row));
        return _chosen[row] != NotChosen;
    }

    /// <summary>
    /// The device's choice for row <paramref name="row"/>, as <see cref="Accelerators.Accelerator.ArgMaxRows"/>
    /// (greedy) or <see cref="Accelerators.Accelerator.SampleRows"/> (sampled) returns it: a token id, −1 when every candidate was −∞, or −2 − i when the row's first NaN is at token i
    /// (<see cref="Sampling.RequestSampler.AcceptChoice"/> turns the last two into the sampler's errors).
    /// </summary>
    /// <exception cref="InvalidOperationException">The row's logits came to the host instead.</exception>
    public int ChosenOnDevice(int row) => IsChosenOnDevice(row)
        ? _chosen[row]
        : throw new InvalidOperationException($"Row {row} was not chosen on the device; read its logits.");

    /// <summary>
    /// The log-probabilities the device reported with row <paramref name="row"/>'s choice (a sampled row
    /// whose request asked for them, <see cref="Sampling.RowSampling.Logprobs"/>): the chosen token's and
    /// the top alternatives', best first; null for any other row.
    /// </summary>
    public (float Logprob, IReadOnlyList<TokenLogprob> Top)? ChosenLogprobs(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)RowCount, nameof(row));
        return _chosenLogprobs[row] is { } chosen ? (chosen.Logprob, chosen.Top) : null;
    }

    /// <summary>The rows of prompt <paramref name="prompt"/> of a prefill (for a decode: row <paramref name="prompt"/> alone).</summary>
    public (int FirstRow, int Count) RowsOf(int prompt)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)prompt, (uint)PromptCount, nameof(prompt));
        return (_promptFirstRows[prompt], _promptFirstRows[prompt + 1] - _promptFirstRows[prompt]);
    }

    /// <summary>Empties the rows and records each prompt's row count; storage grows but is never shrunk.</summary>
    internal void Reset(ReadOnlySpan<int> rowsPerPrompt)
    {
        if (_promptFirstRows.Length < rowsPerPrompt.Length + 1)
        {
            _promptFirstRows = new int[rowsPerPrompt.Length + 1];
        }

        int total = 0;
        for (int i = 0; i < rowsPerPrompt.Length; i++)
        {
            _promptFirstRows[i] = total;
            total += rowsPerPrompt[i];
        }

        _promptFirstRows[rowsPerPrompt.Length] = total;
        PromptCount = rowsPerPrompt.Length;
        RowCount = total;
        if (_chosen.Length < total)
        {
            _chosen = new int[total];
            _chosenLogprobs = new (float, TokenLogprob[])?[total];
        }

        _chosen.AsSpan(0, total).Fill(NotChosen);
        _chosenLogprobs.AsSpan(0, total).Clear();
        long needed = (long)total * VocabularySize;
        if (needed > Array.MaxLength)
        {
            throw new ArgumentException($"{total} logits rows of {VocabularySize} do not fit one call's host buffer: ask for fewer rows (LogitsSelection.Last) or split the call.");
        }

        if (_values.Length < needed)
        {
            _values = new float[needed];
        }
    }

    /// <summary>Every row, row after row (what crosses the network from a remote shard; a chosen row's values are stale).</summary>
    internal ReadOnlySpan<float> AllRows => new(_values, 0, RowCount * VocabularySize);

    /// <summary>Whether any row was chosen on the device.</summary>
    internal bool AnyChosen => _chosen.AsSpan(0, RowCount).IndexOfAnyExcept(NotChosen) >= 0;

    /// <summary>Each row's device choice, or <see cref="int.MinValue"/> for a row that came to the host.</summary>
    internal ReadOnlySpan<int> Choices => new(_chosen, 0, RowCount);

    /// <summary>Records the device's choice for row <paramref name="row"/>.</summary>
    internal void SetChosen(int row, int choice) => _chosen[row] = choice;

    /// <summary>Records the log-probabilities the device reported with row <paramref name="row"/>'s choice.</summary>
    internal void SetChosenLogprobs(int row, float logprob, TokenLogprob[] top) => _chosenLogprobs[row] = (logprob, top);

    /// <summary>Whether any row carries log-probabilities from the device.</summary>
    internal bool AnyChosenLogprobs
    {
        get
        {
            foreach ((float, TokenLogprob[])? chosen in _chosenLogprobs.AsSpan(0, RowCount))
            {
                if (chosen is not null)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Takes the device choices read back from the wire (<see cref="int.MinValue"/>: a host row).</summary>
    internal void SetChoices(ReadOnlySpan<int> choices)
    {
        if (choices.Length != RowCount)
        {
            throw new ArgumentException($"{choices.Length} choices do not match {RowCount} rows.", nameof(choices));
        }

        choices.CopyTo(_chosen);
    }

    /// <summary>Logits read back from the wire: <paramref name="rowsPerPrompt"/> as a call would produce them, holding <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">The values do not fill the rows exactly.</exception>
    internal static ModelLogits FromRows(int vocabularySize, ReadOnlySpan<int> rowsPerPrompt, ReadOnlySpan<float> values)
    {
        var logits = new ModelLogits(vocabularySize);
        logits.Reset(rowsPerPrompt);
        if (values.Length != logits.RowCount * vocabularySize)
        {
            throw new ArgumentException($"{values.Length} values do not fill {logits.RowCount} rows of {vocabularySize}.", nameof(values));
        }

        values.CopyTo(logits._values);
        return logits;
    }

    /// <summary>Makes these logits a copy of <paramref name="source"/>'s rows and prompt layout (storage grows but is never shrunk).</summary>
    internal void CopyFrom(ModelLogits source)
    {
        if (source.VocabularySize != VocabularySize)
        {
            throw new ArgumentException($"Logits rows of {source.VocabularySize} cannot be copied into rows of {VocabularySize}.", nameof(source));
        }

        Span<int> rowsPerPrompt = source.PromptCount <= 256 ? stackalloc int[source.PromptCount] : new int[source.PromptCount];
        for (int i = 0; i < source.PromptCount; i++)
        {
            rowsPerPrompt[i] = source._promptFirstRows[i + 1] - source._promptFirstRows[i];
        }

        Reset(rowsPerPrompt);
        source._values.AsSpan(0, source.RowCount * VocabularySize).CopyTo(_values);
        source.Choices.CopyTo(_chosen);
        source._chosenLogprobs.AsSpan(0, source.RowCount).CopyTo(_chosenLogprobs);
    }

    /// <summary>Storage for rows [<paramref name="firstRow"/>, <paramref name="firstRow"/> + <paramref name="count"/>), to be filled.</summary>
    internal Span<float> Rows(int firstRow, int count) => new(_values, firstRow * VocabularySize, count * VocabularySize);
}
