using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Models.Llama;

namespace Flover.Host.Bench;

/// <summary>
/// The models one <c>bench</c> makes for its runs, of either family: GPT-2's share one upload of the
/// weights on the home accelerator (so instances and every run cost no copy); a LLaMA model is
/// loaded for each run from the checkpoint, which stays open, and the instances scheduler (which
/// needs shared weights) is refused for it in one line.
/// </summary>
internal sealed class BenchModels : IDisposable
{
    private readonly AnyFamilyWeights _weights;
    private readonly Gpt2SharedWeights? _shared;

    private BenchModels(AnyFamilyWeights weights, Gpt2SharedWeights? shared)
    {
        _weights = weights;
        _shared = shared;
    }

    /// <summary>Where the weights come from.</summary>
    public string Source => _weights.Source;

    /// <summary>The logits width (the prompts are drawn below it).</summary>
    public int VocabularySize => _weights.VocabularySize;

    /// <summary>Positions a sequence may hold.</summary>
    public int MaxPositions => _weights.MaxPositions;

    /// <summary>The end-of-sequence id the loop stops on (0 when a LLaMA config names none: the bench ignores it anyway).</summary>
    public int EosTokenId => _weights.EosTokenId ?? 0;

    /// <summary>Opens the model <paramref name="settings"/> names and, for GPT-2, uploads its weights once to <paramref name="home"/>.</summary>
    /// <exception cref="FloverException">The model cannot be opened, or the instances scheduler was asked for a LLaMA model.</exception>
    public static BenchModels Open(BenchSettings settings, Accelerator home)
    {
        // On a GPU a GPT-2 preset is generated in device memory, never on the host.
        AnyFamilyWeights weights = ModelSource.OpenAnyFamily(settings.Model, settings.Preset, TensorDType.F32, deferPreset: home.Device.Kind != AcceleratorKind.Cpu);
        try
        {
            if (weights.Gpt2 is { } gpt2)
            {
                return new BenchModels(weights, new Gpt2SharedWeights(home, gpt2));
            }

            if (settings.Schedulers.Contains("instances"))
            {
                throw new FloverException($"{weights.Source} is a LLaMA model: the instances scheduler shares one upload of GPT-2 weights among its instances, which LLaMA models do not yet; use --schedulers fused,dynamic,sequential.");
            }

            return new BenchModels(weights, null);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>Bytes of one KV slot of <paramref name="capacity"/> positions.</summary>
    public long KvBytesPerSlot(int capacity) =>
        _weights.Llama?.Config.KvBytesPerSlot(capacity) ?? _weights.Gpt2!.Config.KvBytesPerSlot(capacity);

    /// <summary>The whole model on <paramref name="home"/> with <paramref name="slots"/> slots of <paramref name="capacity"/> positions.</summary>
    public IModel Whole(Accelerator home, int slots, int capacity, int rowsPerStep = 256) =>
        _shared is not null
            ? new Gpt2Model(home, _shared, new Gpt2ModelOptions(slots, capacity, rowsPerStep))
            : new LlamaModel(home, _weights.Llama!, new LlamaModelOptions(slots, capacity, rowsPerStep));

    /// <summary>One instance of the instances scheduler (GPT-2 only: the shared upload) on its own <paramref name="accelerator"/>.</summary>
    public IModel Instance(Accelerator accelerator, int capacity) =>
        new Gpt2Model(accelerator, _shared ?? throw new InvalidOperationException("LLaMA models have no shared upload for instances."), new Gpt2ModelOptions(1, capacity, MaxRowsPerStep: 64));

    /// <summary>The engine's shard actors of the model split over <paramref name="engine"/>'s <see cref="EngineOptions.TensorParallel"/> shards, each loading its slice from the checkpoint.</summary>
    public ShardedModel Split(EngineOptions engine, int slots, int capacity) =>
        _weights.Llama is { } llama
            ? LlamaEngineSetup.Shards(engine, llama, new LlamaModelOptions(slots, capacity))
            : EngineSetup.Shards(engine, _weights.Gpt2!, new Gpt2ModelOptions(slots, capacity));

    /// <summary>The model split as <see cref="Split"/> does, driven one call at a time (the step-time curve of a split model).</summary>
    public ToolModel SplitForTool(EngineOptions engine, int slots, int capacity) =>
        ToolModel.Load(engine, _weights, slots, capacity, TensorDType.F32);

    /// <summary>Frees the shared upload and closes the checkpoint.</summary>
    public void Dispose()
    {
        _shared?.Dispose();
        _weights.Dispose();
    }
}
