using Flover.Actors.Inference;
using Flover.Actors.Runtime;
using Flover.Gpu.Memory;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;
using Flover.Testing;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>The engine driven through the public protocol only (Generate, Token, Completed, Rejected, Cancel).</summary>
[Trait("Category", "Slow")]
public sealed class InferenceEngineSpec : TestKit, IClassFixture<TinyModelFixture>
{
    private readonly TinyModelFixture _fixture;
    private readonly IActorRef _engine;

    public InferenceEngineSpec(TinyModelFixture fixture, ITestOutputHelper output)
        : base(output: output)
    {
        _fixture = fixture;
        _engine = Sys.ActorOf(InferenceEngine.Props(fixture.Model, new DecodeLoopOptions(16, 512, MemoryMode.Shuffle, fixture.Eos, ExternalCompaction: true), Gpt2Tokenizer.Default), "engine");
    }

    [Fact]
    public void A_user_written_actor_generates_through_the_public_protocol_and_gets_the_tokens_of_a_lone_run()
    {
        int[] prompt = Gpt2Tokenizer.Default.Encode("The actor model");
        var sampling = new SamplingParameters { Temperature = 0.8f, Seed = 42, MaxTokens = 8 };
        GenerationResult alone = _fixture.Alone(prompt, sampling);

        Sys.ActorOf(Props.Create(() => new Client(_engine, new Generate(prompt, sampling, null, null), TestActor)));

        var result = ExpectMsg<ClientResult>(TimeSpan.FromSeconds(30));
        Assert.Equal(alone.Tokens.Select(t => t.TokenId), result.TokenIds);
        Assert.Equal(alone.Finish, result.Completed.FinishReason);
        Assert.Equal(Gpt2Tokenizer.Default.Decode(result.TokenIds.ToArray()), result.Text);
        Assert.Equal(new Usage(prompt.Length, result.TokenIds.Count), result.Completed.Usage);
    }

    [Fact]
    public void Concurrent_requests_each_get_the_tokens_they_get_alone()
    {
        var requests = Enumerable.Range(0, 4).Select(i => (Prompt: new[] { 100 + i, 200 + i, 300 + i }, Sampling: new SamplingParameters { Temperature = i % 2 == 0 ? 0 : 1, Seed = (ulong)i, MaxTokens = 4 + i })).ToList();
        var expected = requests.Select(r => _fixture.Alone(r.Prompt, r.Sampling).Tokens.Select(t => t.TokenId).ToList()).ToList();

        var probes = requests.Select(r =>
        {
            TestProbe probe = CreateTestProbe();
            _engine.Tell(new Generate(r.Prompt, r.Sampling), probe.Ref);
            return probe;
        }).ToList();

        for (int i = 0; i < probes.Count; i++)
        {
            var ids = new List<int>();
            while (probes[i].ReceiveOne(TimeSpan.FromSeconds(30)) is Token token)
            {
                ids.Add(token.TokenId);
            }

            Assert.IsType<Completed>(probes[i].LastMessage);
            Assert.Equal(expected[i], ids);
        }
    }

    [Fact]
    public void A_stop_sequence_ends_the_request_with_the_text_before_it()
    {
        int[] prompt = [464, 3290, 318];
        var greedy = new SamplingParameters { Temperature = 0, MaxTokens = 12 };
        string full = Gpt2Tokenizer.Default.Decode(_fixture.Alone(prompt, greedy).Tokens.Select(t => t.TokenId).ToArray());
        string stop = full.Substring(full.Length / 2, 2);
        string expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];

        _engine.Tell(new Generate(prompt, greedy, [stop]));

        string text = string.Empty;
        while (ReceiveOne(TimeSpan.FromSeconds(30)) is Token token)
        {
            text += token.TextDelta;
        }

        var completed = Assert.IsType<Completed>(LastMessage);
        Assert.Equal(FinishReason.StopSequence, completed.FinishReason);
        Assert.Equal(expected, text + completed.TrailingText);
    }

    [Fact]
    public void Cancel_ends_the_request_with_Cancelled()
    {
        _engine.Tell(new Generate([1, 2, 3], new SamplingParameters { Temperature = 0, MaxTokens = 40, IgnoreEos = true }));
        ExpectMsg<Token>(TimeSpan.FromSeconds(30));

        LastSender.Tell(Cancel.Instance);

        var completed = (Completed)FishForMessage(m => m is Completed, TimeSpan.FromSeconds(30));
        Assert.Equal(FinishReason.Cancelled, completed.FinishReason);
        Assert.True(completed.Usage.CompletionTokens < 40);
    }

    [Fact]
    public async Task Requests_in_flight_complete_with_Error_when_the_decode_loop_dies()
    {
        _engine.Tell(new Generate([1, 2, 3], new SamplingParameters { Temperature = 0, MaxTokens = 40, IgnoreEos = true }));
        ExpectMsg<Token>(TimeSpan.FromSeconds(30));
        IActorRef loop = await Sys.ActorSelection("/user/engine/decode-loop").ResolveOne(TimeSpan.FromSeconds(1));

        Sys.Stop(loop);

        var completed = (Completed)FishForMessage(m => m is Completed, TimeSpan.FromSeconds(30));
        Assert.Equal((FinishReason.Error, "the decode loop stopped"), (completed.FinishReason, completed.Error));
    }

    [Fact]
    public void A_prompt_too_long_for_a_slot_is_Rejected_with_the_reason()
    {
        _engine.Tell(new Generate(new int[TinyModelFixture.Capacity], new SamplingParameters()));

        Assert.StartsWith("the prompt has 48 tokens", ExpectMsg<Rejected>(TimeSpan.FromSeconds(30)).Reason, StringComparison.Ordinal);
    }

    private sealed record ClientResult(IReadOnlyList<int> TokenIds, string Text, Completed Completed);

    /// <summary>A user's actor: nothing but the public messages.</summary>
    private sealed class Client : ReceiveActor
    {
        private readonly List<int> _ids = [];
        private string _text = string.Empty;

        public Client(IActorRef engine, Generate request, IActorRef reportTo)
        {
            Receive<Token>(token =>
            {
                _ids.Add(token.TokenId);
                _text += token.TextDelta;
            });
            Receive<Completed>(completed => reportTo.Tell(new ClientResult(_ids, _text + completed.TrailingText, completed)));
            engine.Tell(request);
        }
    }
}
