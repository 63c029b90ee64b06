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
using Flover.Gpu.Models.Llama;
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
        (int[] prompt, int[] greedy) = Case(0);

        (List<int> tokens, _) = Generate("flover.engine { threads = 2, kv-slots = 4, max-positions = 64 }", prompt, greedy.Length);

        Assert.Equal(greedy, tokens);
    }

    [Fact]
    public void Any_of_the_model_s_end_of_sequence_ids_ends_a_request()
    {
        (int[] prompt, int[] greedy) = Case(0);
        Assert.Equal(2, Array.IndexOf(greedy, greedy[2])); // its first occurrence: the request must end there

        (List<int> tokens, Completed completed) = Generate("flover.engine { threads = 1, kv-slots = 2, max-positions = 64 }", prompt, greedy.Length, ignoreEos: false, loop => loop with { MoreEosTokenIds = [greedy[2]] });

        Assert.Equal(greedy[..3], tokens);
        Assert.Equal(FinishReason.Eos, completed.FinishReason);
    }

    [Fact]
    public void With_tensor_parallelism_the_engine_generates_transformers_greedy_tokens_and_a_bad_count_is_one_line()
    {
        (int[] prompt, int[] greedy) = Case(2);

        (List<int> tokens, _) = Generate("flover.engine { threads = 2, kv-slots = 2, max-positions = 64 }, flover.parallel.tensor = 2", prompt, greedy.Length);

        Assert.Equal(greedy, tokens);
        using var weights = Open(out LlamaConfig config);
        var error = Assert.Throws<FloverException>(() => LlamaEngineSetup.Shards(Settings("flover.parallel.tensor = 3"), weights, config));
        Assert.Equal($"{weights.Source}: 4 attention heads cannot be split evenly over 3 tensor-parallel shards; use a shard count that divides 4.", error.Message);
    }

    [Theory]
    [InlineData("f16")]
    [InlineData("bf16")]
    public void A_16_bit_kv_cache_halves_the_slots_and_keeps_transformers_greedy_tokens(string kvDType)
    {
        (int[] prompt, int[] greedy) = Case(1);
        string hocon = $"flover.engine {{ threads = 1, kv-slots = 2, max-positions = 64, kv-dtype = {kvDType} }}";

        (List<int> tokens, _) = Generate(hocon, prompt, greedy.Length);

        Assert.Equal(greedy, tokens);
        using var weights = Open(out LlamaConfig config);
        Assert.Equal(config.KvBytesPerSlot(64) / 2, LlamaEngineSetup.Shards(Settings(hocon), weights, config).Shape.KvBytesPerSlot);
    }

    private static FloverSettings Settings(string hocon) => FloverSettings.From(ConfigurationFactory.ParseString(hocon).WithFallback(ConfigurationFactory.Default()));

    private static ReopenableCheckpoint<LlamaWeights> Open(out LlamaConfig config)
    {
        LlamaWeights opened = LlamaCheckpoint.Load(Folder);
        config = opened.Config;
        return new ReopenableCheckpoint<LlamaWeights>(opened, opened.Source, () => LlamaCheckpoint.Load(Folder));
    }

    /// <summary>Prompt <paramref name="index"/> of transformers' reference and its greedy continuation.</summary>
    private static (int[] Prompt, int[] Greedy) Case(int index)
    {
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "reference-logits.json")));
        JsonElement item = reference.RootElement.GetProperty("cases")[index];
        return ([.. item.GetProperty("prompt").EnumerateArray().Select(t => t.GetInt32())], [.. item.GetProperty("greedy").EnumerateArray().Select(t => t.GetInt32())]);
    }

    /// <summary>One greedy request through an engine over the folder's model with <paramref name="hocon"/>: its tokens and how it ended.</summary>
    private (List<int> Tokens, Completed Completed) Generate(string hocon, int[] prompt, int maxTokens, bool ignoreEos = true, Func<DecodeLoopOptions, DecodeLoopOptions>? loop = null)
    {
        FloverSettings settings = Settings(hocon);
        using ReopenableCheckpoint<LlamaWeights> weights = Open(out LlamaConfig config);
        ShardedModel shards = LlamaEngineSetup.Shards(settings, weights, config);
        Assert.Equal(settings.Parallel.Tensor, shards.ShardCount);
        DecodeLoopOptions options = EngineSetup.LoopOptions(settings.Engine, config.EosTokenId!.Value);
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(shards, loop?.Invoke(options) ?? options, Gpt2Tokenizer.Default), "engine");

        engine.Tell(new Generate(prompt, new SamplingParameters { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = ignoreEos }));

        var tokens = new List<int>();
        object last;
        while ((last = ReceiveOne(TimeSpan.FromSeconds(30))!) is Token token)
        {
            tokens.Add(token.TokenId);
        }

        return (tokens, Assert.IsType<Completed>(last));
    }
}
