using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Models.Llama;

/// <summary>
/// A LLaMA model (Hugging Face <c>LlamaForCausalLM</c>: RMSNorm, rotary embeddings, SwiGLU MLP,
/// grouped-query attention) on an <see cref="Accelerator"/>, with a slot-based KV cache sized by the
/// key/value heads. Like <see cref="Gpt2.Gpt2Model"/> it only calls accelerator kernels, each row's
/// arithmetic independent of the batch, so the <see cref="IModel"/> guarantees hold bitwise.
/// </summary>
public sealed partial class LlamaModel : IModel
{
    private readonly Accelerator _accelerator;
    private readonly LlamaDeviceWeights _weights;
    private readonly LlamaWorkspace _workspace;
    private readonly KvCache _cache;
    private readonly ModelLogits _logits;
    private readonly int[] _stagedTokens;
    private readonly int[] _stagedPositions;
    private readonly int[] _stagedSlots;
    private readonly int[] _stagedLogitRows;
    private readonly bool[] _slotSeen;
    private int[] _rowsPerPrompt = [];
    private int _stagedRows;
    private int _stagedLogitCount;
    private int _logitRowsFilled;
    private bool _disposed;

    /// <summary>Uploads <paramref name="weights"/> to <paramref name="accelerator"/> and allocates the KV pool and workspace.</summary>
    /// <param name="accelerator">Where the model runs; the caller keeps ownership.</param>
    /// <param name="weights">The weights; read during construction only, so the caller may dispose them afterwards.</param>
    /// <param name="options">Slots, slot capacity, rows per pass and weight precision.</param>
    /// <exception cref="FloverException">The options do not fit the model.</exception>
    public LlamaModel(Accelerator accelerator, LlamaWeights weights, LlamaModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        Config = weights.Config;
        int capacity = options.SlotCapacity == 0 ? Config.MaxPositions : options.SlotCapacity;
        if (options.SlotCount <= 0)
        {
            throw new FloverException($"The KV pool needs at least one slot, not {options.SlotCount}.");
        }

        if (capacity <= 0 || capacity > Config.MaxPositions)
        {
            throw new FloverException($"Slot capacity {capacity} must lie in 1..{Config.MaxPositions} (the model's maximum positions).");
        }

        if (options.MaxRowsPerStep <= 0)
        {
            throw new FloverException($"Rows per step must be positive, not {options.MaxRowsPerStep}.");
        }

        _accelerator = accelerator;
        int rows = options.MaxRowsPerStep;
        _weights = new LlamaDeviceWeights(accelerator, weights, options.WeightDType, capacity);
        try
        {
            _workspace = new LlamaWorkspace(accelerator, Config, rows);
            _cache = new KvCache(accelerator, new KvCacheLayout(options.SlotCount, Config.LayerCount, Config.KvHeadCount, capacity, Config.HeadSize));
        }
        catch
        {
            _workspace?.Dispose();
            _weights.Dispose();
            throw;
        }

        _logits = new ModelLogits(Config.VocabularySize);
        _stagedTokens = new int[rows];
        _stagedPositions = new int[rows];
        _stagedSlots = new int[rows];
        _stagedLogitRows = new int[rows];
        _slotSeen = new bool[options.SlotCount];
    }

    /// <summary>The model's hyper-parameters.</summary>
    public LlamaConfig Config { get; }

    /// <inheritdoc />
    public int VocabularySize => Config.VocabularySize;

    /// <inheritdoc />
    public int SlotCount => _cache.Layout.SlotCount;

    /// <inheritdoc />
    public int SlotCapacity => _cache.Layout.SlotCapacity;

    /// <summary>Bytes of weights on the accelerator (packed matrices and the rotary table included).</summary>
    public long WeightBytes => _weights.ByteSize;

    /// <summary>The precision the LM head (and, unless the checkpoint mixes types, every matrix) is held in.</summary>
    public TensorDType WeightDType => _weights.LmHead.ElementType;

    /// <summary>Bytes of the KV pool.</summary>
    public long KvCacheBytes => _cache.ByteSize;

    /// <inheritdoc />
    public long KvBytesPerSlot => _cache.ByteSize / SlotCount;

    /// <inheritdoc />
    public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
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
                bool wanted = prompt.Logits == LogitsSelection.All || (prompt.Logits == LogitsSelection.Last && t == tokens.Length - 1);
                Stage(prompt.Slot, prompt.StartPosition + t, tokens[t], wanted);
            }
        }

        Flush();
        return _logits;
    }

    /// <inheritdoc />
    public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
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
            if ((uint)row.Position >= (uint)SlotCapacity)
            {
                throw new ArgumentOutOfRangeException(nameof(rows), $"{where}: the position must lie in 0..{SlotCapacity - 1} (the slot capacity).");
            }

            CheckToken(row.Token, where);
            _rowsPerPrompt[i] = 1;
        }

        Begin(_rowsPerPrompt.AsSpan(0, rows.Length));
        foreach (DecodeRow row in rows)
        {
            Stage(row.Slot, row.Position, row.Token, wantLogits: true);
        }

        Flush();
        return _logits;
    }

    /// <inheritdoc />
    public void Copy(int fromSlot, int toSlot, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _cache.CopySlot(fromSlot, toSlot, length);
    }

    /// <inheritdoc />
    public void Release(int slot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _cache.Release(slot);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _cache.Dispose();
        _workspace.Dispose();
        _weights.Dispose();
        _ownedAccelerator?.Dispose();
    }

    private void Begin(ReadOnlySpan<int> rowsPerPrompt)
    {
        _logits.Reset(rowsPerPrompt);
        _logitRowsFilled = 0;
        _stagedRows = 0;
        _stagedLogitCount = 0;
    }

    private void ValidatePrompt(int index, PrefillPrompt prompt)
    {
        var where = new InputPlace(IsPrompt: true, index, prompt.Slot, prompt.StartPosition, prompt.Tokens.Length);
        CheckSlot(prompt.Slot, where);
        if (prompt.Tokens.IsEmpty)
        {
            throw new ArgumentException($"{where} has no tokens.", nameof(prompt));
        }

        if (prompt.StartPosition < 0 || prompt.StartPosition > SlotCapacity - prompt.Tokens.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(prompt), $"{where} does not fit a slot of {SlotCapacity} positions.");
        }

        foreach (int token in prompt.Tokens.Span)
        {
            CheckToken(token, where);
        }
    }

    private void CheckSlot(int slot, InputPlace where)
    {
        if ((uint)slot >= (uint)SlotCount)
        {
            throw new ArgumentOutOfRangeException(nameof(slot), $"{where}: the slot must lie in 0..{SlotCount - 1}.");
        }

        if (_slotSeen[slot])
        {
            throw new ArgumentException($"{where}: slot {slot} appears twice in one call.", nameof(slot));
        }

        _slotSeen[slot] = true;
    }

    private void CheckToken(int token, InputPlace where)
    {
        if ((uint)token >= (uint)VocabularySize)
        {
            throw new ArgumentOutOfRangeException(nameof(token), $"{where}: token {token} is outside the vocabulary of {VocabularySize}.");
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
