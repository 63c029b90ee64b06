using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Tests.Inference;

/// <summary>The tiny preset on a small slot pool, shared by the loop tests (built once: weights take a moment).</summary>
public sealed class TinyModelFixture : IDisposable
{
    public const int Slots = 6;
    public const int Capacity = 48;

    public TinyModelFixture()
    {
        Weights = Gpt2Presets.Create(Gpt2Presets.Tiny);
        Accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        Model = new Gpt2Model(Accelerator, Weights, new Gpt2ModelOptions(Slots, Capacity));
    }

    public IModelWeights Weights { get; }

    public Accelerator Accelerator { get; }

    public Gpt2Model Model { get; }

    public int Eos => Weights.Config.EosTokenId;

    /// <summary>What the request gets decoded alone (slot 0, nothing beside it).</summary>
    public GenerationResult Alone(int[] prompt, SamplingParameters parameters) =>
        SequenceGenerator.Generate(Model, 0, prompt, parameters, Eos);

    public void Dispose()
    {
        Model.Dispose();
        Accelerator.Dispose();
        Weights.Dispose();
    }
}

/// <summary>Wraps a model and throws on chosen Prefill/Decode calls (1-based counts).</summary>
internal sealed class FaultyModel(IModel inner, IReadOnlySet<int> failingDecodes, IReadOnlySet<int> failingPrefills, IReadOnlySet<int>? failingCopies = null) : IModel
{
    private int _decodes;
    private int _prefills;
    private int _copies;

    public int VocabularySize => inner.VocabularySize;

    public int SlotCount => inner.SlotCount;

    public int SlotCapacity => inner.SlotCapacity;

    public long KvBytesPerSlot => inner.KvBytesPerSlot;

    /// <summary>Copy calls so far (the failing ones included).</summary>
    public int CopyCalls => _copies;

    public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts) =>
        failingPrefills.Contains(++_prefills) ? throw new InvalidOperationException($"injected prefill fault {_prefills}") : inner.Prefill(prompts);

    public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows) =>
        failingDecodes.Contains(++_decodes) ? throw new InvalidOperationException($"injected decode fault {_decodes}") : inner.Decode(rows);

    public void Copy(int fromSlot, int toSlot, int length)
    {
        if (failingCopies?.Contains(++_copies) == true)
        {
            throw new InvalidOperationException($"injected copy fault {_copies}");
        }

        inner.Copy(fromSlot, toSlot, length);
    }

    public void Release(int slot) => inner.Release(slot);

    public void Dispose()
    {
    }
}

/// <summary>Wraps a model and fails every Prefill whose prompts contain <paramref name="poison"/>: a request whose own data fails each step it is in.</summary>
internal sealed class PoisonedPromptModel(IModel inner, int poison) : IModel
{
    public int VocabularySize => inner.VocabularySize;

    public int SlotCount => inner.SlotCount;

    public int SlotCapacity => inner.SlotCapacity;

    public long KvBytesPerSlot => inner.KvBytesPerSlot;

    public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts) =>
        prompts.Any(p => p.Tokens.Span.Contains(poison)) ? throw new InvalidOperationException($"injected fault: token {poison} in a prompt") : inner.Prefill(prompts);

    public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows) => inner.Decode(rows);

    public void Copy(int fromSlot, int toSlot, int length) => inner.Copy(fromSlot, toSlot, length);

    public void Release(int slot) => inner.Release(slot);

    public void Dispose()
    {
    }
}

/// <summary>Wraps a model so a test can hold the decode loop inside a Decode call (a barrier, not a sleep).</summary>
internal sealed class GatedModel(IModel inner) : IModel
{
    /// <summary>One gate for every shard's model: each shard's Decode holds while it is closed.</summary>
    public sealed class Shared
    {
        private readonly ManualResetEventSlim _open = new(initialState: true);

        /// <summary>Signalled each time a shard's Decode waits at the closed gate.</summary>
        public SemaphoreSlim Waiting { get; } = new(0);

        public void Close() => _open.Reset();

        public void Open() => _open.Set();

        /// <summary>Wraps a shard's model (<c>ShardedModel.WithWrap</c>).</summary>
        public IModel Wrap(IModel model) => new GatedModel(model, this);

        internal void Pass()
        {
            if (!_open.IsSet)
            {
                Waiting.Release();
                _open.Wait();
            }
        }
    }

    private readonly ManualResetEventSlim _open = new(initialState: true);

    private readonly Shared? _shared;

    /// <summary>A gate shared with the other shards' models.</summary>
    public GatedModel(IModel inner, Shared shared)
        : this(inner)
    {
        _shared = shared;
    }

    /// <summary>Signalled each time a Decode call is waiting at the closed gate.</summary>
    public SemaphoreSlim Waiting { get; } = new(0);

    public int VocabularySize => inner.VocabularySize;

    public int SlotCount => inner.SlotCount;

    public int SlotCapacity => inner.SlotCapacity;

    public long KvBytesPerSlot => inner.KvBytesPerSlot;

    public void Close() => _open.Reset();

    public void Open() => _open.Set();

    public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts) => inner.Prefill(prompts);

    public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
    {
        _shared?.Pass();
        if (!_open.IsSet)
        {
            Waiting.Release();
            _open.Wait();
        }

        return inner.Decode(rows);
    }

    public void Copy(int fromSlot, int toSlot, int length) => inner.Copy(fromSlot, toSlot, length);


    public void Release(int slot) => inner.Release(slot);

    public void Dispose()
    {
        _open.Dispose();
        Waiting.Dispose();
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock : TimeProvider
{
    // Ticks in a long: set by the test thread, read by the loop's thread, never torn.
    private long _ticks = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    public DateTimeOffset Now
    {
        get => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);
        set => Interlocked.Exchange(ref _ticks, value.UtcTicks);
    }

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>A request in a scenario: arrives at an iteration, with its prompt and sampling.</summary>
internal sealed record ScenarioRequest(long Id, int ArrivalIteration, int[] Prompt, SamplingParameters Parameters);
