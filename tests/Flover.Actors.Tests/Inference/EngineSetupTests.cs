using Flover.Actors.Inference;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Memory;
using Flover.Gpu.Models;

namespace Flover.Actors.Tests.Inference;

public sealed class EngineSetupTests
{
    private static readonly Gpt2Config s_config = Gpt2Presets.ConfigOf(Gpt2Presets.Tiny);

    [Fact]
    public void Reference_defaults_give_64_slots_of_the_models_positions_and_the_indexed_loop()
    {
        EngineSettings settings = FloverSettings.From(ConfigurationFactory.Default()).Engine;

        var model = EngineSetup.ModelOptions(settings, s_config);
        DecodeLoopOptions loop = EngineSetup.LoopOptions(settings, 50256);

        Assert.Equal((64, 256), (model.SlotCount, model.SlotCapacity));
        Assert.Equal(new DecodeLoopOptions(256, 512, MemoryMode.Indexed, 50256, IterationEventsInterval: TimeSpan.FromMilliseconds(250)), loop);
    }

    [Fact]
    public void More_positions_than_the_model_has_are_refused_naming_the_setting()
    {
        EngineSettings settings = FloverSettings.From(ConfigurationFactory.ParseString("flover.engine.max-positions = 4096").WithFallback(ConfigurationFactory.Default())).Engine;

        var error = Assert.Throws<FloverException>(() => EngineSetup.ModelOptions(settings, s_config));

        Assert.Equal("flover.engine.max-positions = 4096 exceeds the model's n_positions (256).", error.Message);
    }

    [Fact]
    public void The_shards_follow_weight_dtype_kv_slots_and_tensor_parallel()
    {
        FloverSettings settings = FloverSettings.From(ConfigurationFactory.ParseString(
            "flover.engine { threads = 2, weight-dtype = bf16, kv-slots = 3, max-positions = 32 }, flover.parallel.tensor = 2").WithFallback(ConfigurationFactory.Default()));
        using Flover.Gpu.Checkpoints.IModelWeights weights = Gpt2Presets.Create(Gpt2Presets.Tiny);

        Flover.Actors.Inference.Sharding.ShardedModel shards = EngineSetup.Shards(settings, weights);
        using Flover.Gpu.Models.IModel rank0 = shards.Create(3, null);

        Assert.Equal(2, shards.ShardCount);
        Assert.Equal((3, 32), (shards.Shape.SlotCount, shards.Shape.SlotCapacity));
        var model = Assert.IsType<Flover.Gpu.Models.Gpt2.Gpt2Model>(rank0);
        Assert.Equal(Flover.Gpu.Checkpoints.TensorDType.BF16, model.WeightDType);
        Assert.Equal((3, 32), (model.SlotCount, model.SlotCapacity));
    }

    [Theory]
    [InlineData("f16", Flover.Gpu.Checkpoints.TensorDType.F16)]
    [InlineData("bf16", Flover.Gpu.Checkpoints.TensorDType.BF16)]
    public void The_kv_dtype_reaches_the_model_and_halves_the_kv_bytes_per_slot(string word, Flover.Gpu.Checkpoints.TensorDType expected)
    {
        FloverSettings full = FloverSettings.From(ConfigurationFactory.ParseString("flover.engine { threads = 1, kv-slots = 2, max-positions = 32 }").WithFallback(ConfigurationFactory.Default()));
        FloverSettings half = FloverSettings.From(ConfigurationFactory.ParseString($"flover.engine {{ threads = 1, kv-slots = 2, max-positions = 32, kv-dtype = {word} }}").WithFallback(ConfigurationFactory.Default()));
        using Flover.Gpu.Checkpoints.IModelWeights weights = Gpt2Presets.Create(Gpt2Presets.Tiny);

        Assert.Equal(Flover.Gpu.Checkpoints.TensorDType.F32, EngineSetup.ModelOptions(full.Engine, s_config).KvDType);
        Assert.Equal(expected, EngineSetup.ModelOptions(half.Engine, s_config).KvDType);
        Flover.Actors.Inference.Sharding.ShardedModel fullShards = EngineSetup.Shards(full, weights);
        Flover.Actors.Inference.Sharding.ShardedModel halfShards = EngineSetup.Shards(half, weights);
        using Flover.Gpu.Models.IModel model = halfShards.Create(2, null);
        Assert.Equal(expected, Assert.IsType<Flover.Gpu.Models.Gpt2.Gpt2Model>(model).KvDType);
        Assert.Equal(fullShards.Shape.KvBytesPerSlot, 2 * halfShards.Shape.KvBytesPerSlot);
        Assert.Equal(halfShards.Shape.KvBytesPerSlot, model.KvBytesPerSlot);
    }
}
