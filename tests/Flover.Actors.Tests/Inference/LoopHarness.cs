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
internal sealed class FaultyModel(IModel inner, IReadOnlySet<int> failingDecodes, IReadOnlySet<int> failingPrefills, IReadOnlySet<int>? failingCopies = null) : DelegatingModel(inner)
{
    private int _decodes;
    private int _prefills;
    private int _copies;

    /// <summary>Copy calls so far (the failing ones included).</summary>
    public int CopyCalls => _copies;

    public override ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts) =>
        failingPrefills.Contains(++_prefills) ? throw new InvalidOperationException($"injected prefill fault {_prefills}") : Inner.Prefill(prompts);

    public override ModelLogits Decode(ReadOnlySpan<DecodeRow> rows) =>
        failingDecodes.Contains(++_decodes) ? throw new InvalidOperationException($"injected decode fault {_decodes}") : Inner.Decode(rows);

    public override void Copy(int fromSlot, int toSlot, int length)
    {
        if (failingCopies?.Contains(++_copies) == true)
        {
            throw new InvalidOperationException($"injected copy fault {_copies}");
        }

        Inner.Copy(fromSlot, toSlot, length);
    }

}

/// <summary>Wraps a model and fails every Prefill whose prompts contain <paramref name="poison"/>: a request whose own data fails each step it is in.</summary>
internal sealed class PoisonedPromptModel(IModel inner, int poison) : DelegatingModel(inner)
{

    public override ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts) =>
        prompts.Any(p => p.Tokens.Span.Contains(poison)) ? throw new InvalidOperationException($"injected fault: token {poison} in a prompt") : Inner.Prefill(prompts);

}

/// <summary>Wraps a model so a test can hold the decode loop inside a Decode call (a barrier, not a sleep).</summary>
internal sealed class GatedModel(IModel inner) : DelegatingModel(inner)
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

    public void Close() => _open.Reset();

    public void Open() => _open.Set();

    public override ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
    {
        _shared?.Pass();
        if (!_open.IsSet)
        {
            Waiting.Release();
            _open.Wait();
        }

        return Inner.Decode(rows);
    }

    public override void Dispose()
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
