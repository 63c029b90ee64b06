using Flover.Actors.Inference;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Tests.Inference.Baselines;

/// <summary>The tiny preset uploaded once; model instances over it on accelerators of their own, as the schedulers get them.</summary>
public sealed class SharedTinyFixture : IDisposable
{
    public const int Capacity = 48;

    private readonly List<IDisposable> _owned = [];
    private readonly Lock _lock = new();

    public SharedTinyFixture()
    {
        Weights = Gpt2Presets.Create(Gpt2Presets.Tiny);
        Home = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
        Shared = new Gpt2SharedWeights(Home, Weights);
        Reference = new Gpt2Model(Home, Shared, new Gpt2ModelOptions(1, Capacity));
    }

    public IModelWeights Weights { get; }

    public Accelerator Home { get; }

    public Gpt2SharedWeights Shared { get; }

    public Gpt2Model Reference { get; }

    public int Eos => Weights.Config.EosTokenId;

    /// <summary>Models created through <see cref="Model"/> so far.</summary>
    public int Created { get; private set; }

    /// <summary>The model's shape with one slot (schedulers take the slots they need).</summary>
    public ModelShape Shape => ModelShape.Of(Reference);

    /// <summary>Instance models as the bench gives the instances scheduler: each on its own one-worker accelerator.</summary>
    public InstanceModelFactory Instances => (_, _) => Model(1);

    /// <summary>A model of <paramref name="slots"/> slots on its own one-worker accelerator (disposed with the fixture).</summary>
    public IModel Model(int slots)
    {
        lock (_lock)
        {
            Accelerator accelerator = new AcceleratorContext(new EngineOptions(1)).CreateDefault();
            var model = new Gpt2Model(accelerator, Shared, new Gpt2ModelOptions(slots, Capacity, MaxRowsPerStep: 64));
            _owned.Add(model);
            _owned.Add(accelerator);
            Created++;
            return model;
        }
    }

    /// <summary>What the request gets decoded alone.</summary>
    public List<int> Alone(int[] prompt, SamplingParameters parameters)
    {
        lock (_lock)
        {
            return [.. SequenceGenerator.Generate(Reference, 0, prompt, parameters, Eos).Tokens.Select(t => t.TokenId)];
        }
    }

    public void Dispose()
    {
        foreach (IDisposable item in _owned)
        {
            item.Dispose();
        }

        Reference.Dispose();
        Shared.Dispose();
        Home.Dispose();
        Weights.Dispose();
    }
}
