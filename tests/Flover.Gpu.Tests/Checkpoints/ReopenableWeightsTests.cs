using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Tests.Models;

namespace Flover.Gpu.Tests.Checkpoints;

/// <summary>The engine's checkpoint: open while shards load, closed once released, reopened for a replaced shard.</summary>
public sealed class ReopenableWeightsTests
{
    [Fact]
    public void Released_weights_close_once_no_load_uses_them_and_a_later_use_reopens_and_closes_them()
    {
        var opened = new List<CountingWeights>();
        CountingWeights Open()
        {
            var weights = new CountingWeights(TinyGpt2.Weights(TinyGpt2.Config(), seed: 2));
            opened.Add(weights);
            return weights;
        }

        using var source = new ReopenableWeights(Open(), Open);
        int layers = source.Use(weights => weights.Config.LayerCount);
        Assert.True(source.IsOpen);

        // A load in progress keeps them open through the release.
        source.Use(_ =>
        {
            source.Release();
            Assert.True(source.IsOpen);
            return 0;
        });
        Assert.False(source.IsOpen);
        Assert.Equal(1, opened[0].Disposals);

        // A replaced shard's load opens them again, and they close right after.
        Assert.Equal(layers, source.Use(weights => weights.Config.LayerCount));
        Assert.Equal(2, opened.Count);
        Assert.False(source.IsOpen);
        Assert.Equal(1, opened[1].Disposals);
    }

    [Fact]
    public void Disposed_weights_refuse_a_use()
    {
        var source = new ReopenableWeights(TinyGpt2.Weights(TinyGpt2.Config()), () => TinyGpt2.Weights(TinyGpt2.Config()));
        source.Dispose();

        Assert.Throws<ObjectDisposedException>(() => source.Use(weights => weights.Source));
    }

    private sealed class CountingWeights(IModelWeights inner) : IModelWeights
    {
        public int Disposals { get; private set; }

        public Gpt2Config Config => inner.Config;

        public string Source => inner.Source;

        public IReadOnlyCollection<string> TensorNames => inner.TensorNames;

        public TensorView Get(string name) => inner.Get(name);

        public void Dispose()
        {
            Disposals++;
            inner.Dispose();
        }
    }
}
