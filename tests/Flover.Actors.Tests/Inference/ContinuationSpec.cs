using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Actors.Tests.Inference.Baselines;
using Flover.Gpu.Memory;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>
/// <see cref="Generate.ContinueFrom"/>: a request cut after k tokens on one engine and resumed on a
/// second engine with its history gets exactly the tokens, texts and usage the undisturbed run gets
/// after them (greedy and seeded with penalties), numbered from k; a history that already finished
/// the request is rejected naming <c>continue_from</c>.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ContinuationSpec(SharedTinyFixture fixture, ITestOutputHelper output) : TestKit(AkkaTestConfig.Default, output: output), IClassFixture<SharedTinyFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly int[] Prompt = [464, 2068, 7586, 21831];

    public static TheoryData<string, int> Cuts => new()
    {
        { "greedy", 1 },
        { "greedy", 5 },
        { "seeded", 1 },
        { "seeded", 7 },
    };

    [Theory]
    [MemberData(nameof(Cuts))]
    public void A_request_cut_after_k_tokens_continues_on_another_engine_with_exactly_the_undisturbed_rest(string kind, int k)
    {
        SamplingParameters sampling = Sampling(kind);
        IActorRef first = Engine();
        IActorRef second = Engine();
        (List<Token> whole, Completed wholeEnd) = Run(first, new Generate(Prompt, sampling) { CorrelationId = "whole" });
        Assert.Equal(fixture.Alone(Prompt, sampling), whole.Select(t => t.TokenId));
        Assert.True(whole.Count > k + 1, $"the undisturbed run has {whole.Count} tokens; the cut at {k} must leave some");

        // Cut for real: the client takes k tokens, then cancels (what is in flight is dropped).
        TestProbe cut = CreateTestProbe();
        first.Tell(new Generate(Prompt, sampling) { CorrelationId = "cut" }, cut.Ref);
        List<Token> head = [.. Enumerable.Range(0, k).Select(_ => cut.ExpectMsg<Token>(Patience))];
        cut.LastSender.Tell(Cancel.Instance, cut.Ref);
        cut.FishForMessage(m => m is Completed, Patience);

        (List<Token> rest, Completed restEnd) = Run(second, new Generate(Prompt, sampling) { CorrelationId = "rest", ContinueFrom = [.. head.Select(t => t.TokenId)] });

        Assert.Equal(whole.Take(k).Select(t => (t.Index, t.TokenId, t.TextDelta)), head.Select(t => (t.Index, t.TokenId, t.TextDelta)));
        Assert.Equal(whole.Skip(k).Select(t => (t.Index, t.TokenId, t.TextDelta)), rest.Select(t => (t.Index, t.TokenId, t.TextDelta)));
        Assert.Equal(wholeEnd with { CorrelationId = "rest" }, restEnd);
    }

    [Fact]
    public void A_history_that_already_finished_the_request_is_rejected_naming_continue_from()
    {
        IActorRef engine = Engine();
        var sampling = new SamplingParameters { Temperature = 0, MaxTokens = 3 };

        engine.Tell(new Generate(Prompt, sampling) { CorrelationId = "done", ContinueFrom = [11, 12, 13] });
        Rejected full = ExpectMsg<Rejected>(Patience);
        engine.Tell(new Generate(Prompt, sampling) { CorrelationId = "eos", ContinueFrom = [11, fixture.Eos] });
        Rejected eos = ExpectMsg<Rejected>(Patience);
        engine.Tell(new Generate(Prompt, sampling) { CorrelationId = "outside", ContinueFrom = [11, 1 << 20] });
        Rejected outside = ExpectMsg<Rejected>(Patience);

        Assert.Equal(("done", "continue_from", RejectionCode.InvalidField), (full.CorrelationId, full.Field, full.Code));
        Assert.Equal("eos", eos.CorrelationId);
        Assert.Contains("already finished the request (Eos)", eos.Reason, StringComparison.Ordinal);
        Assert.Equal(("outside", "continue_from", "1048576"), (outside.CorrelationId, outside.Field, outside.Value));
    }

    private static SamplingParameters Sampling(string kind) => kind switch
    {
        "greedy" => new SamplingParameters { Temperature = 0, MaxTokens = 12 },
        // Penalties and min_tokens depend on the history's counts, the draw on the token's index.
        _ => new SamplingParameters { Temperature = 1.1f, TopK = 50, TopP = 0.95f, Seed = 20261205, MaxTokens = 12, MinTokens = 10, RepetitionPenalty = 1.3f, FrequencyPenalty = 0.4f, PresencePenalty = 0.2f },
    };

    private IActorRef Engine()
    {
        var options = new DecodeLoopOptions(16, 512, MemoryMode.Indexed, fixture.Eos);
        return Sys.ActorOf(InferenceEngine.Props(fixture.Model(2), options, Gpt2Tokenizer.Default));
    }

    private (List<Token> Tokens, Completed End) Run(IActorRef engine, Generate request)
    {
        TestProbe client = CreateTestProbe();
        engine.Tell(request, client.Ref);
        var tokens = new List<Token>();
        while (client.ReceiveOne(Patience) is Token token)
        {
            tokens.Add(token);
        }

        return (tokens, Assert.IsType<Completed>(client.LastMessage));
    }
}
