using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Gpu;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Memory;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>Tensor-parallel shards as actors: the same plan on every shard, and recovery when one is killed mid-generation.</summary>
[Trait("Category", "Slow")]
public sealed class ShardGroupSpec : TestKit, IDisposable
{
    private const int Slots = 4;
    private const int Capacity = 48;
    private readonly IModelWeights _weights = Gpt2Presets.Create(Gpt2Presets.Tiny);

    public ShardGroupSpec(ITestOutputHelper output)
        : base(AkkaTestConfig.Default, output: output)
    {
    }

    [Fact]
    public void Shard_actors_compute_what_the_threaded_tensor_parallel_model_computes()
    {
        using var reference = new TensorParallelModel(new EngineOptions(3), _weights, new Gpt2ModelOptions(Slots, Capacity), 3);
        var group = new ShardGroupModel(Sys, _weights, new Gpt2ModelOptions(Slots, Capacity), new EngineOptions(3), 3);
        try
        {
            // The pool's size per slot, computed from the config, equals the shards' KV slices summed.
            Assert.Equal(reference.KvBytesPerSlot, group.KvBytesPerSlot);
            int[] prompt = [464, 6801, 2746, 318];
            Assert.Equal(reference.Prefill([new PrefillPrompt(1, prompt)]).Row(0).ToArray(), group.Prefill([new PrefillPrompt(1, prompt)]).Row(0).ToArray());
            group.Copy(1, 2, prompt.Length);
            reference.Copy(1, 2, prompt.Length);
            Assert.Equal(reference.Decode([new DecodeRow(2, 4, 11)]).Row(0).ToArray(), group.Decode([new DecodeRow(2, 4, 11)]).Row(0).ToArray());
        }
        finally
        {
            group.Dispose();
        }
    }

    [Fact]
    public void A_shard_killed_mid_generation_is_rebuilt_and_the_request_gets_exactly_its_uninterrupted_tokens()
    {
        int[] prompt = Gpt2Tokenizer.Default.Encode("Tensor parallel shards");
        var sampling = new SamplingParameters { Temperature = 0.9f, Seed = 7, MaxTokens = 10, IgnoreEos = true };
        int[] expected;
        using (var reference = new TensorParallelModel(new EngineOptions(2), _weights, new Gpt2ModelOptions(Slots, Capacity), 2))
        {
            expected = [.. SequenceGenerator.Generate(reference, 0, prompt, sampling, _weights.Config.EosTokenId).Tokens.Select(t => t.TokenId)];
        }

        var group = new ShardGroupModel(Sys, _weights, new Gpt2ModelOptions(Slots, Capacity), new EngineOptions(2), 2);
        using var gated = new GatedModel(group);
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(gated, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, _weights.Config.EosTokenId), Gpt2Tokenizer.Default), "engine");
        try
        {
            gated.Close();
            engine.Tell(new Generate(prompt, sampling));
            Assert.True(gated.Waiting.Wait(TimeSpan.FromSeconds(30)), "the loop reached its first decode");

            // The loop is held before its first decode; shard 1 dies now, between steps.
            TestProbe watcher = CreateTestProbe();
            IActorRef victim = group.Shards[1];
            watcher.Watch(victim);
            victim.Tell(Kill.Instance);
            watcher.ExpectTerminated(victim, TimeSpan.FromSeconds(10));
            gated.Open();

            var tokens = new List<int>();
            object message;
            while ((message = ReceiveOne(TimeSpan.FromSeconds(60))!) is Token token)
            {
                tokens.Add(token.TokenId);
            }

            Assert.Equal(FinishReason.Length, Assert.IsType<Completed>(message).FinishReason);
            Assert.Equal(expected, tokens);
            Assert.Equal(1, group.Rebuilds);
        }
        finally
        {
            Sys.Stop(engine);
            group.Dispose();
        }
    }

    [Fact]
    public void A_shard_count_that_does_not_divide_the_heads_is_refused()
    {
        var error = Assert.Throws<FloverException>(() => new ShardGroupModel(Sys, _weights, new Gpt2ModelOptions(Slots, Capacity), new EngineOptions(1), 5));

        Assert.Contains("cannot be split evenly over 5", error.Message, StringComparison.Ordinal);
    }

    public new void Dispose()
    {
        _weights.Dispose();
        base.Dispose();
    }
}

/// <summary>
/// Step plans are plain data: they survive Akka's serialization of remote messages (today its
/// default serializer; the compact binary one replaces it with the public protocol's serializers).
/// </summary>
public sealed class ShardPlanSerializationTests(ITestOutputHelper output) : TestKit(AkkaTestConfig.Default, output: output)
{
    [Fact]
    public void Step_and_copy_plans_round_trip_through_akkas_serialization()
    {
        var serializer = new PlanSerializer(Sys.Serialization);
        var prefill = new ShardStepPlan(7, [new ShardPrefill(2, [5, 6, 7], 3, LogitsSelection.All)], null);
        var decode = new ShardStepPlan(8, null, [new DecodeRow(1, 4, 9), new DecodeRow(3, 0, 2)]);
        var copy = new ShardCopyPlan(9, 3, 1, 12);

        var prefillBack = (ShardStepPlan)serializer.FromBinary(serializer.ToBinary(prefill), typeof(ShardStepPlan));
        var decodeBack = (ShardStepPlan)serializer.FromBinary(serializer.ToBinary(decode), typeof(ShardStepPlan));

        Assert.Equal((7L, 2, 3, LogitsSelection.All), (prefillBack.Step, prefillBack.Prefill![0].Slot, prefillBack.Prefill[0].StartPosition, prefillBack.Prefill[0].Logits));
        Assert.Equal([5, 6, 7], prefillBack.Prefill[0].Tokens);
        Assert.Equal(decode.Decode, decodeBack.Decode);
        Assert.Equal(copy, serializer.FromBinary(serializer.ToBinary(copy), typeof(ShardCopyPlan)));
    }

    /// <summary>The serializer Akka picks for each message, as remoting would.</summary>
    private sealed class PlanSerializer(Akka.Serialization.Serialization serialization)
    {
        public byte[] ToBinary(object message) => serialization.FindSerializerFor(message).ToBinary(message);

        public object FromBinary(byte[] bytes, Type type) => serialization.FindSerializerForType(type).FromBinary(bytes, type);
    }
}
