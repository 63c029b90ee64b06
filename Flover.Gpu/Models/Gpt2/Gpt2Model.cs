using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;

namespace Flover.Gpu.Models.Gpt2;

/// <summary>
/// GPT-2 (pre-LN blocks, learned positions, tied LM head) on any <see cref="Accelerator"/>, with a
/// slot-based KV cache. The model only calls accelerator kernels on buffer views, so it runs unchanged
/// on any accelerator.
/// </summary>
public sealed partial class Gpt2Model : IModel
{
    private readonly Accelerator _accelerator;
    private readonly Gpt2DeviceWeights _weights;
    private readonly Gpt2Workspace _workspace;
    private readonly KvCache _cache;
    private readonly TensorShard? _shard;
    private readonly int[] _vocabularyOffsets = [];
    private readonly KernelActivation _activation;
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
    private readonly bool _ownsWeights;
    private bool _disposed;

    /// <summary>Uploads <paramref name="weights"/> to <paramref name="accelerator"/> and allocates the KV pool and workspace.</summary>
    /// <param name="accelerator">Where the model runs; the caller keeps ownership.</param>
    /// <param name="weights">The weights; read during construction only, so the caller may dispose them afterwards.</param>
    /// <param name="options">Slots, slot capacity and rows per pass.</param>
    /// <exception cref="FloverException">A tensor is missing or misshapen, or the options do not fit the model.</exception>
    public Gpt2Model(Accelerator accelerator, IModelWeights weights, Gpt2ModelOptions options)
        : this(accelerator, NotNull(weights).Config, weights.Source, options, shard => new Gpt2DeviceWeights(accelerator, weights, options.WeightDType, shard), ownsWeights: true)
    {
    }

    /// <summary>
    /// A model instance over weights already uploaded (<paramref name="weights"/>), shared with
    /// other instances (the concurrent-instances baseline): it allocates only its own KV pool and
    /// workspace. The weights stay the caller's; dispose them after this model.
    /// </summary>
    /// <param name="accelerator">Where this instance runs (its own workers); must share memory with the weights' accelerator.</param>
    /// <param name="weights">The shared, read-only weights (the whole model, in their own precision).</param>
    /// <param name="options">Slots, slot capacity and rows per pass; no shard, and no other weight precision.</param>
    /// <exception cref="FloverException">The options do not fit the model, or the accelerator cannot read the weights.</exception>
    public Gpt2Model(Accelerator accelerator, Gpt2SharedWeights weights, Gpt2ModelOptions options)
        : this(accelerator, CheckShared(accelerator, weights, options).Config, weights.Source, options, _ => weights.Device, ownsWeights: false)
    {
    }

    private Gpt2Model(Accelerator accelerator, Gpt2Config config, string source, Gpt2ModelOptions options, Func<TensorShard?, Gpt2DeviceWeights> upload, bool ownsWeights)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(options);
        Config = config;
        _ownsWeights = ownsWeights;
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

        if (Config.HeadCount <= 0 || Config.EmbeddingSize % Config.HeadCount != 0)
        {
            throw new FloverException($"{source}: {Config.HeadCount} heads do not divide the embedding size {Config.EmbeddingSize}.");
        }

        _accelerator = accelerator;
        _activation = Config.Activation switch
        {
            Gpt2Activation.GeluTanh => KernelActivation.GeluTanh,
            Gpt2Activation.GeluExact => KernelActivation.GeluExact,
            Gpt2Activation.Relu => KernelActivation.Relu,
            _ => throw new FloverException($"{source}: unsupported activation {Config.Activation}."),
        };
        int rows = options.MaxRowsPerStep;
        // A group of one is the whole model: no collectives, bitwise the unsplit results.
        _shard = options.Shard is { Count: > 1 } ? options.Shard : null;
        int shards = _shard?.Count ?? 1;
        Config.CheckShardCount(shards, source);

        if (_shard is not null)
        {
            _vocabularyOffsets = [.. Enumerable.Range(0, shards + 1).Select(r => r == shards ? Config.VocabularySize : _shard.Share(Config.VocabularySize, r).Start)];
        }

        _weights = upload(_shard);
        try
        {
            _workspace = new Gpt2Workspace(accelerator, Config, rows, shards, _shard is null ? Config.VocabularySize : _shard.Share(Config.VocabularySize).Count);
            _cache = new KvCache(accelerator, new KvCacheLayout(options.SlotCount, Config.LayerCount, Config.HeadCount / shards, capacity, Config.HeadSize) { ElementType = options.KvDType });
        }
        catch
        {
            _workspace?.Dispose();
            if (ownsWeights)
            {
                _weights.Dispose();
            }

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
    public Gpt2Config Config { get; }

    /// <inheritdoc />
    public int VocabularySize => Config.VocabularySize;

    /// <inheritdoc />
    public int SlotCount => _cache.Layout.SlotCount;

    /// <inheritdoc />
    public int SlotCapacity => _cache.Layout.SlotCapacity;

    /// <summary>Bytes of weights on the accelerator (packed matrices included).</summary>
    public long WeightBytes => _weights.ByteSize;

    /// <summary>The precision the LM head (and, unless the checkpoint mixes types, every matrix) is held in.</summary>
    public TensorDType WeightDType => _weights.LmHead.ElementType;

    /// <summary>The precision the KV cache holds keys and values in (<see cref="Gpt2ModelOptions.KvDType"/>).</summary>
    public TensorDType KvDType => _cache.Layout.ElementType;

    /// <summary>
    /// When set, every pass records its time phase by phase into it, synchronising the accelerator at
    /// each phase (slower: for <c>bench-decode --profile</c>); null (the default) records nothing.
    /// </summary>
    public StepProfile? Profile { get; set; }

    /// <summary>Bytes of the KV pool.</summary>
    public long KvCacheBytes => _cache.ByteSize;

    /// <summary>Bytes of the KV pool held in memory now: on the CPU the pages sequences have written and not yet released; on a GPU the whole pool.</summary>
    public long KvResidentBytes => _cache.ResidentBytes;

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
        if (_ownsWeights)
        {
            _weights.Dispose();
        }

        _ownedAccelerator?.Dispose();
    }

    private static IModelWeights NotNull(IModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return weights;
    }

    private static Gpt2SharedWeights CheckShared(Accelerator accelerator, Gpt2SharedWeights weights, Gpt2ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        if (!accelerator.SharesMemoryWith(weights.Accelerator))
        {
            throw new FloverException($"The weights of {weights.Source} live on {weights.Accelerator.Device.Name}, whose memory {accelerator.Device.Name} cannot read.");
        }

        if (options.Shard is { Count: > 1 })
        {
            throw new FloverException("Shared weights hold the whole model; a tensor-parallel shard uploads its own slice.");
        }

        if (options.WeightDType is { } dtype && dtype != weights.Device.LmHead.ElementType)
        {
            throw new FloverException($"The shared weights are held in {weights.Device.LmHead.ElementType}; a model over them cannot ask for {dtype}.");
        }

        return weights;
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
