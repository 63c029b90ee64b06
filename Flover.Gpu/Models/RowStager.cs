using Flover.Gpu.Sampling;

namespace Flover.Gpu.Models;

/// <summary>
/// The host side of a step, shared by the model families: checks a call's inputs (slot, position and
/// token ranges, a slot used once per call; each failure one line naming the input), lays the rows
/// out in host arrays, and asks the model to run a pass (its own upload, kernels and download) each
/// time the arrays hold a pass's rows, and once more at the end. Logits come back in
/// <see cref="Logits"/>, prompt by prompt. One thread at a time, like the model.
/// </summary>
internal sealed class RowStager
{
    private readonly int _slotCount;
    private readonly int _slotCapacity;
    private readonly int _vocabularySize;
    private readonly Action<RowStager> _runPass;
    private readonly int[] _tokens;
    private readonly int[] _positions;
    private readonly int[] _slots;
    private readonly int[] _logitRows;
    private readonly int[] _chooseAmong;
    private readonly RowSampling?[] _sampling;
    private readonly bool[] _slotSeen;
    private int[] _rowsPerPrompt = [];
    private int _logitRowsFilled;

    /// <param name="slotCount">KV slots.</param>
    /// <param name="slotCapacity">Positions per slot.</param>
    /// <param name="vocabularySize">Token ids and the width of a logits row.</param>
    /// <param name="rowsPerPass">Rows one pass runs (the workspace's rows).</param>
    /// <param name="runPass">Runs the staged rows (<see cref="Tokens"/>, ...) and writes the wanted rows' logits to <see cref="LogitsDestination"/>.</param>
    public RowStager(int slotCount, int slotCapacity, int vocabularySize, int rowsPerPass, Action<RowStager> runPass)
    {
        _slotCount = slotCount;
        _slotCapacity = slotCapacity;
        _vocabularySize = vocabularySize;
        _runPass = runPass;
        _tokens = new int[rowsPerPass];
        _positions = new int[rowsPerPass];
        _slots = new int[rowsPerPass];
        _logitRows = new int[rowsPerPass];
        _chooseAmong = new int[rowsPerPass];
        _sampling = new RowSampling?[rowsPerPass];
        _slotSeen = new bool[slotCount];
        Logits = new ModelLogits(vocabularySize);
    }

    /// <summary>
    /// Checks a model's pool and pass shape and returns its slot capacity (<paramref name="slotCapacity"/>,
    /// or the model's maximum positions for 0), one line per mistake.
    /// </summary>
    /// <exception cref="FloverException">No slot, a capacity outside 1..<paramref name="maxPositions"/>, or no rows per pass.</exception>
    public static int CheckShape(int slotCount, int slotCapacity, int maxPositions, int rowsPerPass)
    {
        int capacity = slotCapacity == 0 ? maxPositions : slotCapacity;
        if (slotCount <= 0)
        {
            throw new FloverException($"The KV pool needs at least one slot, not {slotCount}.");
        }

        if (capacity <= 0 || capacity > maxPositions)
        {
            throw new FloverException($"Slot capacity {capacity} must lie in 1..{maxPositions} (the model's maximum positions).");
        }

        return rowsPerPass > 0 ? capacity : throw new FloverException($"Rows per step must be positive, not {rowsPerPass}.");
    }

    /// <summary>The logits of the last call (the same object every call).</summary>
    public ModelLogits Logits { get; }

    /// <summary>Rows staged for the pass.</summary>
    public int Rows { get; private set; }

    /// <summary>Of them, the rows whose logits are wanted.</summary>
    public int Wanted { get; private set; }

    /// <summary>The staged rows' tokens.</summary>
    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, Rows);

    /// <summary>The staged rows' positions.</summary>
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, Rows);

    /// <summary>The staged rows' slots.</summary>
    public ReadOnlySpan<int> Slots => _slots.AsSpan(0, Rows);

    /// <summary>Indices (among the staged rows) of the rows whose logits are wanted, in order.</summary>
    public ReadOnlySpan<int> LogitRows => _logitRows.AsSpan(0, Wanted);

    /// <summary>Where the pass writes its <see cref="Wanted"/> logits rows.</summary>
    public Span<float> LogitsDestination => Logits.Rows(_logitRowsFilled, Wanted);

    /// <summary>For each wanted row of this pass, the ids it is chosen among on the device, or 0 (<see cref="DecodeRow.ChooseAmong"/>).</summary>
    public ReadOnlySpan<int> ChooseAmong => _chooseAmong.AsSpan(0, Wanted);

    /// <summary>For each wanted row of this pass, how it is sampled on the device, or null (greedy, or its logits come back; <see cref="DecodeRow.Sampling"/>).</summary>
    public ReadOnlySpan<RowSampling?> Sampling => _sampling.AsSpan(0, Wanted);

    /// <summary>The <see cref="Logits"/> row of this pass's first wanted row.</summary>
    public int FirstLogitRow => _logitRowsFilled;

    /// <summary>Checks and stages <paramref name="prompts"/>, running as many passes as they need.</summary>
    /// <exception cref="ArgumentException">A prompt is null or empty, out of range, or two share a slot.</exception>
    public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (_rowsPerPrompt.Length < prompts.Count)
        {
            _rowsPerPrompt = new int[prompts.Count];
        }

        Array.Clear(_slotSeen);
        for (int i = 0; i < prompts.Count; i++)
        {
            PrefillPrompt prompt = prompts[i] ?? throw new ArgumentException($"Prompt {i} is null.", nameof(prompts));
            ValidatePrompt(i, prompt);
            _rowsPerPrompt[i] = prompt.Logits switch
            {
                LogitsSelection.Last => 1,
                LogitsSelection.All => prompt.Tokens.Length,
                _ => 0,
            };
        }

        Begin(_rowsPerPrompt.AsSpan(0, prompts.Count));
        for (int i = 0; i < prompts.Count; i++)
        {
            PrefillPrompt prompt = prompts[i];
            ReadOnlySpan<int> tokens = prompt.Tokens.Span;
            for (int t = 0; t < tokens.Length; t++)
            {
                bool last = t == tokens.Length - 1;
                bool wanted = prompt.Logits == LogitsSelection.All || (prompt.Logits == LogitsSelection.Last && last);
                Stage(prompt.Slot, prompt.StartPosition + t, tokens[t], wanted, last ? prompt.Sampling?.Candidates ?? 0 : 0, last ? prompt.Sampling : null);
            }
        }

        Flush();
        return Logits;
    }

    /// <summary>Checks and stages one token per row, running as many passes as they need.</summary>
    /// <exception cref="ArgumentException">A slot, position or token is out of range, or two rows share a slot.</exception>
    public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
    {
        if (_rowsPerPrompt.Length < rows.Length)
        {
            _rowsPerPrompt = new int[rows.Length];
        }

        Array.Clear(_slotSeen);
        for (int i = 0; i < rows.Length; i++)
        {
            DecodeRow row = rows[i];
            var where = new InputPlace(IsPrompt: false, i, row.Slot, row.Position, row.Token);
            CheckSlot(row.Slot, where);
            if ((uint)row.Position >= (uint)_slotCapacity)
            {
                throw new ArgumentOutOfRangeException(nameof(rows), $"{where}: the position must lie in 0..{_slotCapacity - 1} (the slot capacity).");
            }

            CheckToken(row.Token, where);
            if ((uint)row.ChooseAmong > (uint)_vocabularySize)
            {
                throw new ArgumentOutOfRangeException(nameof(rows), $"{where}: a choice on the device is made among 0..{_vocabularySize} ids, not {row.ChooseAmong}.");
            }

            CheckSampling(row.Sampling, row.ChooseAmong, where);

            _rowsPerPrompt[i] = 1;
        }

        Begin(_rowsPerPrompt.AsSpan(0, rows.Length));
        foreach (DecodeRow row in rows)
        {
            Stage(row.Slot, row.Position, row.Token, wantLogits: true, row.ChooseAmong, row.Sampling);
        }

        Flush();
        return Logits;
    }

    /// <summary>A sampled row is chosen among its sampling's candidates (within the vocabulary), and its edits name only those (the device writes where they say).</summary>
    private void CheckSampling(RowSampling? sampling, int chooseAmong, InputPlace where)
    {
        if (sampling is null)
        {
            return;
        }

        if (sampling.Candidates != chooseAmong || (uint)sampling.Candidates - 1 >= (uint)_vocabularySize)
        {
            throw new ArgumentOutOfRangeException(nameof(sampling), $"{where}: a sampled row is chosen among its sampling's {sampling.Candidates} ids, which must be {chooseAmong} and lie in 1..{_vocabularySize}.");
        }

        foreach (LogitEdit edit in sampling.Edits.Span)
        {
            if ((uint)edit.Token >= (uint)sampling.Candidates)
            {
                throw new ArgumentOutOfRangeException(nameof(sampling), $"{where}: a logit edit names token {edit.Token}, outside the {sampling.Candidates} candidates.");
            }
        }
    }

    private void Begin(ReadOnlySpan<int> rowsPerPrompt)
    {
        Logits.Reset(rowsPerPrompt);
        _logitRowsFilled = 0;
        Rows = 0;
        Wanted = 0;
    }

    private void Stage(int slot, int position, int token, bool wantLogits, int chooseAmong = 0, RowSampling? sampling = null)
    {
        int row = Rows++;
        _slots[row] = slot;
        _positions[row] = position;
        _tokens[row] = token;
        if (wantLogits)
        {
            _chooseAmong[Wanted] = chooseAmong;
            _sampling[Wanted] = sampling;
            _logitRows[Wanted++] = row;
        }

        if (Rows == _tokens.Length)
        {
            Flush();
        }
    }

    private void Flush()
    {
        if (Rows == 0)
        {
            return;
        }

        _runPass(this);
        _logitRowsFilled += Wanted;
        Rows = 0;
        Wanted = 0;
    }

    private void ValidatePrompt(int index, PrefillPrompt prompt)
    {
        var where = new InputPlace(IsPrompt: true, index, prompt.Slot, prompt.StartPosition, prompt.Tokens.Length);
        CheckSlot(prompt.Slot, where);
        if (prompt.Tokens.IsEmpty)
        {
            throw new ArgumentException($"{where} has no tokens.", nameof(prompt));
        }

        if (prompt.StartPosition < 0 || prompt.StartPosition > _slotCapacity - prompt.Tokens.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(prompt), $"{where} does not fit a slot of {_slotCapacity} positions.");
        }

        foreach (int token in prompt.Tokens.Span)
        {
            CheckToken(token, where);
        }

        if (prompt.Sampling is { } sampling)
        {
            if (prompt.Logits != LogitsSelection.Last)
            {
                throw new ArgumentException($"{where}: only a prompt's last row (LogitsSelection.Last) is sampled on the device, not {prompt.Logits}.", nameof(prompt));
            }

            CheckSampling(sampling, sampling.Candidates, where);
        }
    }

    private void CheckSlot(int slot, InputPlace where)
    {
        if ((uint)slot >= (uint)_slotCount)
        {
            throw new ArgumentOutOfRangeException(nameof(slot), $"{where}: the slot must lie in 0..{_slotCount - 1}.");
        }

        if (_slotSeen[slot])
        {
            throw new ArgumentException($"{where}: slot {slot} appears twice in one call.", nameof(slot));
        }

        _slotSeen[slot] = true;
    }

    private void CheckToken(int token, InputPlace where)
    {
        if ((uint)token >= (uint)_vocabularySize)
        {
            throw new ArgumentOutOfRangeException(nameof(token), $"{where}: token {token} is outside the vocabulary of {_vocabularySize}.");
        }
    }

    /// <summary>
    /// Which input a check is about; a value type whose text is built only when a check fails, so
    /// validating a step allocates nothing.
    /// </summary>
    private readonly record struct InputPlace(bool IsPrompt, int Index, int Slot, int Position, int TokenOrLength)
    {
        public override string ToString() => IsPrompt
            ? $"Prompt {Index} (slot {Slot}, start {Position}, {TokenOrLength} tokens)"
            : $"Decode row {Index} (slot {Slot}, position {Position}, token {TokenOrLength})";
    }
}
