using System.Text.Json;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>A LLaMA folder through the same engine as GPT-2: the decode loop does not know which family it runs.</summary>
public sealed class LlamaEngineSpec(ITestOutputHelper output) : TestKit(AkkaTestConfig.Default, output: output)
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "TestData", "llama-gqa-llama3rope");

    [Fact]
    public void The_engine_generates_transformers_greedy_tokens_from_a_llama_folder()
    {
        Assert.Equal(ModelFamily.Llama, ModelFamilies.Of(Folder));
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "reference-logits.json")));
        JsonElement first = reference.RootElement.GetProperty("cases")[0];
        int[] prompt = [.. first.GetProperty("prompt").EnumerateArray().Select(t => t.GetInt32())];
        int[] greedy = [.. first.GetProperty("greedy").EnumerateArray().Select(t => t.GetInt32())];
        FloverSettings settings = FloverSettings.From(ConfigurationFactory.ParseString("flover.engine { threads = 2, kv-slots = 4, max-positions = 64 }").WithFallback(ConfigurationFactory.Default()));
        LlamaWeights opened = LlamaCheckpoint.Load(Folder);
        using var weights = new ReopenableCheckpoint<LlamaWeights>(opened, opened.Source, () => LlamaCheckpoint.Load(Folder));
        ShardedModel shards = LlamaEngineSetup.Shards(settings, weights, opened.Config);
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, EngineSetup.LoopOptions(settings.Engine, opened.Config.EosTokenId!.Value), Gpt2Tokenizer.Default), "engine");

        engine.Tell(new Generate(prompt, new SamplingParameters { Temperature = 0, MaxTokens = greedy.Length, IgnoreEos = true }));

        var tokens = new List<int>();
        while (ReceiveOne(TimeSpan.FromSeconds(30)) is Token token)
        {
            tokens.Add(token.TokenId);
        }

        Assert.Equal(greedy, tokens);
    }

    [Fact]
    public void Any_of_the_model_s_end_of_sequence_ids_ends_a_request()
    {
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "reference-logits.json")));
        JsonElement first = reference.RootElement.GetProperty("cases")[0];
        int[] prompt = [.. first.GetProperty("prompt").EnumerateArray().Select(t => t.GetInt32())];
        int[] greedy = [.. first.GetProperty("greedy").EnumerateArray().Select(t => t.GetInt32())];
        Assert.Equal(2, Array.IndexOf(greedy, greedy[2])); // its first occurrence: the request must end there
        FloverSettings settings = FloverSettings.From(ConfigurationFactory.ParseString("flover.engine { threads = 1, kv-slots = 2, max-positions = 64 }").WithFallback(ConfigurationFactory.Default()));
        LlamaWeights opened = LlamaCheckpoint.Load(Folder);
        using var weights = new ReopenableCheckpoint<LlamaWeights>(opened, opened.Source, () => LlamaCheckpoint.Load(Folder));
        ShardedModel shards = LlamaEngineSetup.Shards(settings, weights, opened.Config);
        DecodeLoopOptions loop = EngineSetup.LoopOptions(settings.Engine, opened.Config.EosTokenId!.Value) with { MoreEosTokenIds = [greedy[2]] };
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, loop, Gpt2Tokenizer.Default), "engine");

        engine.Tell(new Generate(prompt, new SamplingParameters { Temperature = 0, MaxTokens = greedy.Length }));

        var tokens = new List<int>();
        object last;
        while ((last = ReceiveOne(TimeSpan.FromSeconds(30))!) is Token token)
        {
            tokens.Add(token.TokenId);
        }

        Assert.Equal(greedy[..3], tokens);
        Assert.Equal(FinishReason.Eos, Assert.IsType<Completed>(last).FinishReason);
    }

    [Fact]
    public void With_tensor_parallelism_the_engine_generates_transformers_greedy_tokens_and_a_bad_count_is_one_line()
    {
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "reference-logits.json")));
        JsonElement third = reference.RootElement.GetProperty("cases")[2];
        int[] prompt = [.. third.GetProperty("prompt").EnumerateArray().Select(t => t.GetInt32())];
        int[] greedy = [.. third.GetProperty("greedy").EnumerateArray().Select(t => t.GetInt32())];
        FloverSettings settings = FloverSettings.From(ConfigurationFactory.ParseString("flover.engine { threads = 2, kv-slots = 2, max-positions = 64 }, flover.parallel.tensor = 2").WithFallback(ConfigurationFactory.Default()));
        LlamaWeights opened = LlamaCheckpoint.Load(Folder);
        using var weights = new ReopenableCheckpoint<LlamaWeights>(opened, opened.Source, () => LlamaCheckpoint.Load(Folder));
        ShardedModel shards = LlamaEngineSetup.Shards(settings, weights, opened.Config);
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, EngineSetup.LoopOptions(settings.Engine, opened.Config.EosTokenId!.Value), Gpt2Tokenizer.Default), "engine");

        engine.Tell(new Generate(prompt, new SamplingParameters { Temperature = 0, MaxTokens = greedy.Length, IgnoreEos = true }));

        var tokens = new List<int>();
        while (ReceiveOne(TimeSpan.FromSeconds(30)) is Token token)
        {
            tokens.Add(token.TokenId);
        }

        Assert.Equal(2, shards.ShardCount);
        Assert.Equal(greedy, tokens);
        FloverSettings three = FloverSettings.From(ConfigurationFactory.ParseString("flover.parallel.tensor = 3").WithFallback(ConfigurationFactory.Default()));
        var error = Assert.Throws<FloverException>(() => LlamaEngineSetup.Shards(three, weights, opened.Config));
        Assert.Equal($"{opened.Source}: 4 attention heads cannot be split evenly over 3 tensor-parallel shards; use a shard count that divides 4.", error.Message);
    }

    [Theory]
    [InlineData("f16")]
    [InlineData("bf16")]
    public void A_16_bit_kv_cache_halves_the_slots_and_keeps_transformers_greedy_tokens(string kvDType)
    {
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "reference-logits.json")));
        JsonElement first = reference.RootElement.GetProperty("cases")[1];
        int[] prompt = [.. first.GetProperty("prompt").EnumerateArray().Select(t => t.GetInt32())];
        int[] greedy = [.. first.GetProperty("greedy").EnumerateArray().Select(t => t.GetInt32())];
        FloverSettings settings = FloverSettings.From(ConfigurationFactory.ParseString($"flover.engine {{ threads = 1, kv-slots = 2, max-positions = 64, kv-dtype = {kvDType} }}").WithFallback(ConfigurationFactory.Default()));
        LlamaWeights opened = LlamaCheckpoint.Load(Folder);
        using var weights = new ReopenableCheckpoint<LlamaWeights>(opened, opened.Source, () => LlamaCheckpoint.Load(Folder));
        ShardedModel shards = LlamaEngineSetup.Shards(settings, weights, opened.Config);
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, EngineSetup.LoopOptions(settings.Engine, opened.Config.EosTokenId!.Value), Gpt2Tokenizer.Default), "engine");

        engine.Tell(new Generate(prompt, new SamplingParameters { Temperature = 0, MaxTokens = greedy.Length, IgnoreEos = true }));

        var tokens = new List<int>();
        while (ReceiveOne(TimeSpan.FromSeconds(30)) is Token token)
        {
            tokens.Add(token.TokenId);
        }

        Assert.Equal(greedy, tokens);
        Assert.Equal(opened.Config.KvBytesPerSlot(64) / 2, shards.Shape.KvBytesPerSlot);
    }
}
