namespace Flover.Gpu.Models;

/// <summary>
/// The logits rows of one <see cref="IModel"/> call, in host memory. The model reuses the storage, so
/// rows are valid only until its next call: read or copy them first.
/// </summary>
public sealed class ModelLogits
{
    private float[] _values = [];
    private int[] _promptFirstRows = [];

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
    public ReadOnlySpan<float> Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)RowCount, nameof(row));
        return new ReadOnlySpan<float>(_values, row * VocabularySize, VocabularySize);
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

    /// <summary>Every row, row after row (what crosses the network from a remote shard).</summary>
    internal ReadOnlySpan<float> AllRows => new(_values, 0, RowCount * VocabularySize);

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
    }

    /// <summary>Storage for rows [<paramref name="firstRow"/>, <paramref name="firstRow"/> + <paramref name="count"/>), to be filled.</summary>
    internal Span<float> Rows(int firstRow, int count) => new(_values, firstRow * VocabularySize, count * VocabularySize);
}
