using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Gpu.Memory;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>
/// What the public protocol promises an Akka.NET user, each checked through the public messages:
/// correlation ids, exactly one ending, consecutive tokens, cancel and a stopped client freeing the
/// slot, bad fields rejected by name, draining, text prompts.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ProtocolGuaranteesSpec : TestKit, IClassFixture<TinyModelFixture>
{
    private static readonly SamplingParameters Greedy = new() { Temperature = 0, MaxTokens = 6, IgnoreEos = true };
    private readonly TinyModelFixture _fixture;
    private readonly IActorRef _engine;

    public ProtocolGuaranteesSpec(TinyModelFixture fixture, ITestOutputHelper output)
        : base(AkkaTestConfig.Default, output: output)
    {
        _fixture = fixture;
        _engine = Sys.ActorOf(InferenceEngine.Props(fixture.Model, new DecodeLoopOptions(16, 512, MemoryMode.Indexed, fixture.Eos), Gpt2Tokenizer.Default), "engine");
    }

    [Fact]
    public void One_actor_runs_many_requests_told_apart_by_correlation_id_each_with_consecutive_tokens_and_exactly_one_ending()
    {
        string[] ids = ["a", "b", "c"];
        int[][] prompts = [[5, 6, 7], [9, 10], [21, 22, 23, 24]];
        for (int i = 0; i < ids.Length; i++)
        {
            _engine.Tell(new Generate(prompts[i], Greedy with { MaxTokens = 3 + i }) { CorrelationId = ids[i] });
        }

        var tokens = ids.ToDictionary(id => id, _ => new List<Token>());
        var endings = ids.ToDictionary(id => id, _ => new List<Completed>());
        while (endings.Values.Any(e => e.Count == 0))
        {
            switch (ReceiveOne(TimeSpan.FromSeconds(30)))
            {
                case Token token:
                    Assert.Empty(endings[token.CorrelationId]);
                    tokens[token.CorrelationId].Add(token);
                    break;
                case Completed completed:
                    endings[completed.CorrelationId].Add(completed);
                    break;
                case var other:
                    Assert.Fail($"unexpected {other}");
                    break;
            }
        }

        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        for (int i = 0; i < ids.Length; i++)
        {
            Assert.Equal(Enumerable.Range(0, 3 + i), tokens[ids[i]].Select(t => t.Index));
            Assert.Equal(_fixture.Alone(prompts[i], Greedy with { MaxTokens = 3 + i }).Tokens.Select(t => t.TokenId), tokens[ids[i]].Select(t => t.TokenId));
            Completed completed = Assert.Single(endings[ids[i]]);
            Assert.Equal((FinishReason.Length, 3 + i), (completed.FinishReason, completed.Usage.CompletionTokens));
        }
    }

    [Fact]
    public void A_text_prompt_is_tokenized_by_the_engine_and_gets_the_tokens_of_its_ids()
    {
        const string text = "The actor model";
        _engine.Tell(Generate.FromText(text, Greedy, "text"));

        List<int> generated = CollectTokens("text", out Completed completed);

        Assert.Equal(Gpt2Tokenizer.Default.Encode(text).Length, completed.Usage.PromptTokens);
        Assert.Equal(_fixture.Alone(Gpt2Tokenizer.Default.Encode(text), Greedy).Tokens.Select(t => t.TokenId), generated);
    }

    [Fact]
    public void Cancel_ends_the_request_with_Cancelled_and_its_kv_slot_is_free_when_the_Completed_arrives()
    {
        _engine.Tell(new Generate([1, 2, 3], Greedy with { MaxTokens = 40 }) { CorrelationId = "c" });
        ExpectMsg<Token>(TimeSpan.FromSeconds(30));
        LastSender.Tell(Cancel.Instance);

        var completed = (Completed)FishForMessage(m => m is Completed, TimeSpan.FromSeconds(30));

        Assert.Equal((FinishReason.Cancelled, "c"), (completed.FinishReason, completed.CorrelationId));
        // The loop frees the slot in the iteration that retires the request, before it reports it.
        EngineStatus status = Probe();
        Assert.Equal((0, 0), (status.Running, status.KvSlotsUsed));
    }

    [Fact]
    public void A_client_actor_that_stops_has_its_request_cancelled_and_its_slot_freed()
    {
        TestProbe client = CreateTestProbe();
        _engine.Tell(new Generate([1, 2, 3], Greedy with { MaxTokens = 40 }), client.Ref);
        client.ExpectMsg<Token>(TimeSpan.FromSeconds(30));

        Sys.Stop(client.Ref);

        AwaitCondition(() => Probe() is { Running: 0, KvSlotsUsed: 0, Waiting: 0 }, TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData("prompt", "empty", null, null, null)]
    [InlineData("prompt", "50257", 50257, null, null)]
    [InlineData("max_tokens", "0", null, "max_tokens", 0f)]
    [InlineData("top_p", "0", null, "top_p", 0f)]
    [InlineData("top_p", "1.5", null, "top_p", 1.5f)]
    [InlineData("temperature", "NaN", null, "temperature", float.NaN)]
    [InlineData("temperature", "-1", null, "temperature", -1f)]
    [InlineData("temperature", "Infinity", null, "temperature", float.PositiveInfinity)]
    [InlineData("presence_penalty", "-Infinity", null, "presence_penalty", float.NegativeInfinity)]
    [InlineData("repetition_penalty", "0", null, "repetition_penalty", 0f)]
    public void A_generate_with_a_bad_field_is_rejected_naming_the_field_and_its_value_and_nothing_starts(string field, string value, int? badToken, string? parameter, float? number)
    {
        int[] prompt = field == "prompt" && badToken is null ? [] : [1, badToken ?? 2];
        SamplingParameters sampling = parameter switch
        {
            "max_tokens" => Greedy with { MaxTokens = (int)number!.Value },
            "top_p" => Greedy with { TopP = number!.Value },
            "temperature" => Greedy with { Temperature = number!.Value },
            "presence_penalty" => Greedy with { PresencePenalty = number!.Value },
            "repetition_penalty" => Greedy with { RepetitionPenalty = number!.Value },
            _ => Greedy,
        };

        _engine.Tell(new Generate(prompt, sampling) { CorrelationId = "bad" });

        var rejected = ExpectMsg<Rejected>(TimeSpan.FromSeconds(30));
        Assert.Equal((RejectionCode.InvalidField, field, value, "bad"), (rejected.Code, rejected.Field, rejected.Value, rejected.CorrelationId));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Equal((0, 0, 0), (Probe().Running, Probe().Waiting, Probe().KvSlotsUsed));
    }

    [Fact]
    public void A_prompt_longer_than_the_context_is_rejected_as_too_long()
    {
        _engine.Tell(new Generate(new int[TinyModelFixture.Capacity], Greedy));

        var rejected = ExpectMsg<Rejected>(TimeSpan.FromSeconds(30));

        Assert.Equal(RejectionCode.PromptTooLong, rejected.Code);
        Assert.Contains($"at most {TinyModelFixture.Capacity - 1}", rejected.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void While_draining_a_generate_is_rejected_as_draining_and_a_request_in_flight_finishes()
    {
        TestProbe inFlight = CreateTestProbe();
        _engine.Tell(new Generate([1, 2, 3], Greedy with { MaxTokens = 8 }), inFlight.Ref);
        inFlight.ExpectMsg<Token>(TimeSpan.FromSeconds(30));

        _engine.Tell(StartDraining.Instance);
        ExpectMsg<EngineDraining>(TimeSpan.FromSeconds(30));
        _engine.Tell(new Generate([4, 5], Greedy) { CorrelationId = "late" });

        var rejected = ExpectMsg<Rejected>(TimeSpan.FromSeconds(30));
        Assert.Equal((RejectionCode.Draining, "late"), (rejected.Code, rejected.CorrelationId));
        Assert.Equal(FinishReason.Length, ((Completed)inFlight.FishForMessage(m => m is Completed, TimeSpan.FromSeconds(30))).FinishReason);
    }

    [Fact]
    public void The_engine_describes_itself_and_tokenizes_and_detokenizes_with_its_own_tokenizer()
    {
        _engine.Tell(DescribeEngine.Instance);
        var description = ExpectMsg<EngineDescription>(TimeSpan.FromSeconds(30));
        _engine.Tell(new Tokenize("Hello, world", "t"));
        var tokenized = ExpectMsg<Tokenized>(TimeSpan.FromSeconds(30));
        _engine.Tell(new Detokenize(tokenized.TokenIds, "d"));
        var detokenized = ExpectMsg<Detokenized>(TimeSpan.FromSeconds(30));
        _engine.Tell(new Detokenize([1, 50257], "bad"));
        var rejected = ExpectMsg<Rejected>(TimeSpan.FromSeconds(30));

        Assert.Equal((50257, TinyModelFixture.Capacity), (description.VocabularySize, description.ContextLength));
        Assert.Equal(Gpt2Tokenizer.Default.Encode("Hello, world"), tokenized.TokenIds);
        Assert.Equal(("Hello, world", "d"), (detokenized.Text, detokenized.CorrelationId));
        Assert.Equal(("token_ids", "50257", "bad"), (rejected.Field, rejected.Value, rejected.CorrelationId));
    }

    private EngineStatus Probe()
    {
        TestProbe probe = CreateTestProbe();
        _engine.Tell(ProbeEngine.Instance, probe.Ref);
        return probe.ExpectMsg<EngineStatus>(TimeSpan.FromSeconds(30));
    }

    private List<int> CollectTokens(string correlationId, out Completed completed)
    {
        var ids = new List<int>();
        while (true)
        {
            switch (ReceiveOne(TimeSpan.FromSeconds(30)))
            {
                case Token token:
                    Assert.Equal(correlationId, token.CorrelationId);
                    ids.Add(token.TokenId);
                    break;
                case Completed done:
                    Assert.Equal(correlationId, done.CorrelationId);
                    completed = done;
                    return ids;
                case var other:
                    Assert.Fail($"unexpected {other}");
                    break;
            }
        }
    }
}
