using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;
using Flover.Gpu.Sampling;

namespace Flover.Gpu.Models;

/// <summary>
/// What every Flover model family shares around its forward pass: the accelerator it runs on, the
/// slot-based KV pool, the staging of prefill chunks and decode rows into passes of at most
/// <c>MaxRowsPerStep</c> rows, slot copies and releases, the step profile, and disposal. A family
/// (<see cref="Gpt2.Gpt2Model"/>, <see cref="Llama.LlamaModel"/>) supplies its weights, workspace
/// and the pass itself; only this assembly can add one.
/// </summary>
public abstract class SlotCacheModel : IModel, IProfiledModel
{
    private KvCache? _cache;
    private RowStager? _stager;
    private MemoryBuffer<int>? _choices;
    private int[] _hostChoices = [];
    private MemoryBuffer<float>? _logprobs;
    private MemoryBuffer<int>? _topIds;
    private float[] _hostLogprobs = [];
    private int[] _hostTopIds = [];
    private Accelerator? _ownedAccelerator;

    private protected SlotCacheModel(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        Accelerator = accelerator;
    }

    /// <inheritdoc />
    public abstract int VocabularySize { get; }

    /// <inheritdoc />
    public int SlotCount => Cache.Layout.SlotCount;

    /// <inheritdoc />
    public int SlotCapacity => Cache.Layout.SlotCapacity;

    /// <summary>Bytes of the KV pool.</summary>
    public long KvCacheBytes => Cache.ByteSize;

    /// <summary>Bytes of the KV pool held in memory now: on the CPU the pages sequences have written and not yet released; on a GPU the whole pool.</summary>
    public long KvResidentBytes => Cache.ResidentBytes;

    /// <inheritdoc />
    public long KvBytesPerSlot => Cache.ByteSize / SlotCount;

    /// <summary>The precision the KV cache holds keys and values in (the options' <c>KvDType</c>).</summary>
    public TensorDType KvDType => Cache.Layout.ElementType;

    /// <summary>
    /// When set, every pass records its time phase by phase into it, synchronising the accelerator at
    /// each phase (slower: for <c>bench-decode --profile</c>); null (the default) records nothing.
    /// </summary>
    public StepProfile? Profile { get; set; }

    /// <summary>What runs the model (SIMD width or device, threads).</summary>
    public string DeviceDetails => Accelerator.Device.Details;

    /// <summary>Whether <see cref="Dispose()"/> has run.</summary>
    protected bool IsDisposed { get; private set; }

    private protected Accelerator Accelerator { get; }

    private protected KvCache Cache => _cache ?? throw new InvalidOperationException("The model's KV pool is not allocated yet.");

    /// <inheritdoc />
    public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return _stager!.Prefill(prompts);
    }

    /// <inheritdoc />
    public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return _stager!.Decode(rows);
    }

    /// <inheritdoc />
    public void Copy(int fromSlot, int toSlot, int length)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        Cache.CopySlot(fromSlot, toSlot, length);
    }

    /// <inheritdoc />
    public void Release(int slot)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        Cache.Release(slot);
    }

    /// <summary>Frees the KV pool, the family's buffers and, for a model from a <c>Load</c> method, its accelerator.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Frees what the model holds: the KV pool here, then the family's own buffers in its override,
    /// then an accelerator the model owns. Runs once; later calls do nothing.
    /// </summary>
    /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (IsDisposed)
        {
            return;
        }

        IsDisposed = true;
        if (disposing)
        {
            _cache?.Dispose();
            _choices?.Dispose();
            _logprobs?.Dispose();
            _topIds?.Dispose();
            ReleaseBuffers();
            _ownedAccelerator?.Dispose();
        }
    }

    /// <summary>
    /// Opens an accelerator on <see cref="EngineOptions.Device"/> with <paramref name="engine"/>'s
    /// kernel threads and builds a model on it that owns it and closes it when disposed; the
    /// accelerator is closed again if <paramref name="create"/> throws.
    /// </summary>
    private protected static TModel LoadOwning<TModel>(EngineOptions engine, Func<Accelerator, TModel> create)
        where TModel : SlotCacheModel
    {
        Accelerator accelerator = DeviceAccelerators.Open(engine.Device, engine);
        try
        {
            TModel model = create(accelerator);
            model._ownedAccelerator = accelerator;
            return model;
        }
        catch
        {
            accelerator.Dispose();
            throw;
        }
    }

    /// <summary>Takes the KV pool the family allocated and starts staging passes of at most <paramref name="rowsPerPass"/> rows.</summary>
    private protected void AttachCache(KvCache cache, int vocabularySize, int rowsPerPass)
    {
        _cache = cache;
        _stager = new RowStager(cache.Layout.SlotCount, cache.Layout.SlotCapacity, vocabularySize, rowsPerPass, RunPass);
        _choices = Accelerator.Allocate<int>(rowsPerPass);
        _hostChoices = new int[rowsPerPass];
        _logprobs = Accelerator.Allocate<float>((long)rowsPerPass * RowSampling.LogprobsPerRow);
        _topIds = Accelerator.Allocate<int>((long)rowsPerPass * RowSampling.MaxTopLogprobs);
        _hostLogprobs = new float[RowSampling.LogprobsPerRow];
        _hostTopIds = new int[RowSampling.MaxTopLogprobs];
    }

    /// <summary>
    /// Brings this pass's wanted rows to the host from <paramref name="deviceLogits"/> (row after row):
    /// the logits of the rows that want them, and for the rows chosen on the device
    /// (<see cref="DecodeRow.ChooseAmong"/>) only their choice, greedy or sampled
    /// (<see cref="DecodeRow.Sampling"/>), so a step moves a few bytes per such row instead of a
    /// vocabulary of floats. A sampled row's logits are overwritten where they are.
    /// </summary>
    private protected void DeliverLogits(ArrayView<float> deviceLogits, RowStager staged)
    {
        int wanted = staged.Wanted;
        int vocabulary = VocabularySize;
        ReadOnlySpan<int> chooseAmong = staged.ChooseAmong;
        if (chooseAmong.IndexOfAnyExcept(0) < 0)
        {
            Accelerator.CopyToCpu(deviceLogits.SubView(0, (long)wanted * vocabulary), staged.LogitsDestination);
            return;
        }

        ReadOnlySpan<RowSampling?> sampling = staged.Sampling;
        ChooseGreedily(deviceLogits, staged, chooseAmong, sampling);
        bool sampled = false;
        foreach (RowSampling? row in sampling)
        {
            sampled |= row is not null;
        }

        if (sampled)
        {
            // One launch for every sampled row (a group each); the others' groups return at once.
            Accelerator.SampleRows(deviceLogits, vocabulary, sampling, _choices!.View, _logprobs!.View, _topIds!.View);
            Accelerator.CopyToCpu(_choices.View.SubView(0, wanted), _hostChoices.AsSpan(0, wanted));
            for (int row = 0; row < wanted; row++)
            {
                if (sampling[row] is { } rowSampling)
                {
                    staged.Logits.SetChosen(staged.FirstLogitRow + row, _hostChoices[row]);
                    DeliverLogprobs(staged, row, rowSampling, _hostChoices[row]);
                }
            }
        }

        // The other rows' logits, one copy per run of consecutive such rows.
        Span<float> destination = staged.LogitsDestination;
        for (int first = 0; first < wanted;)
        {
            if (chooseAmong[first] != 0)
            {
                first++;
                continue;
            }

            int end = first;
            while (end < wanted && chooseAmong[end] == 0)
            {
                end++;
            }

            long start = (long)first * vocabulary;
            long length = (long)(end - first) * vocabulary;
            Accelerator.CopyToCpu(deviceLogits.SubView(start, length), destination.Slice((int)start, (int)length));
            first = end;
        }
    }

    /// <summary>
    /// Brings back a sampled row's log-probabilities when its request asked for them: the chosen
    /// token's and its top alternatives' (two small copies), nothing more.
    /// </summary>
    private void DeliverLogprobs(RowStager staged, int row, RowSampling sampling, int choice)
    {
        if (sampling.Logprobs < 0 || choice < 0)
        {
            return;
        }

        int alternatives = Math.Min(sampling.Logprobs, sampling.Candidates);
        Accelerator.CopyToCpu(_logprobs!.View.SubView((long)row * RowSampling.LogprobsPerRow, 1 + alternatives), _hostLogprobs.AsSpan(0, 1 + alternatives));
        if (alternatives > 0)
        {
            Accelerator.CopyToCpu(_topIds!.View.SubView((long)row * RowSampling.MaxTopLogprobs, alternatives), _hostTopIds.AsSpan(0, alternatives));
        }

        var top = new TokenLogprob[alternatives];
        for (int i = 0; i < top.Length; i++)
        {
            top[i] = new TokenLogprob(_hostTopIds[i], _hostLogprobs[1 + i]);
        }

        staged.Logits.SetChosenLogprobs(staged.FirstLogitRow + row, _hostLogprobs[0], top);
    }

    /// <summary>
    /// The greedy rows' choices: one launch per distinct candidate count (in practice one: the loop's
    /// sampled vocabulary), at the first row asking for it; every wanted row is chosen (a group per row
    /// is cheap) and each greedy row takes the choice made among its own count.
    /// </summary>
    private void ChooseGreedily(ArrayView<float> deviceLogits, RowStager staged, ReadOnlySpan<int> chooseAmong, ReadOnlySpan<RowSampling?> sampling)
    {
        int wanted = staged.Wanted;
        for (int i = 0; i < wanted; i++)
        {
            int candidates = chooseAmong[i];
            if (candidates == 0 || sampling[i] is not null || IsGreedyAmong(chooseAmong[..i], sampling, candidates))
            {
                continue;
            }

            Accelerator.ArgMaxRows(deviceLogits, wanted, VocabularySize, candidates, _choices!.View);
            Accelerator.CopyToCpu(_choices.View.SubView(0, wanted), _hostChoices.AsSpan(0, wanted));
            for (int row = i; row < wanted; row++)
            {
                if (chooseAmong[row] == candidates && sampling[row] is null)
                {
                    staged.Logits.SetChosen(staged.FirstLogitRow + row, _hostChoices[row]);
                }
            }
        }
    }

    /// <summary>Whether one of <paramref name="earlier"/> rows is greedy among <paramref name="candidates"/> ids (its launch already chose them all).</summary>
    private static bool IsGreedyAmong(ReadOnlySpan<int> earlier, ReadOnlySpan<RowSampling?> sampling, int candidates)
    {
        for (int i = 0; i < earlier.Length; i++)
        {
            if (earlier[i] == candidates && sampling[i] is null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Runs the rows <paramref name="staged"/> holds through the model and writes their wanted logits where it says.</summary>
    private protected abstract void RunPass(RowStager staged);

    /// <summary>Frees the family's weights and workspace (the KV pool is already freed).</summary>
    private protected abstract void ReleaseBuffers();
}
