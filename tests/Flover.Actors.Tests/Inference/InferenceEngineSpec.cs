using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Gpu.Memory;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>The engine driven through the public protocol only (Generate, Token, Completed, Rejected, Cancel).</summary>
[Trait("Category", "Slow")]
public sealed class InferenceEngineSpec : TestKit, IClassFixture<TinyModelFixture>
{
    private readonly TinyModelFixture _fixture;
    private readonly IActorRef _engine;
    private readonly ManualClock _clock = new();

    public InferenceEngineSpec(TinyModelFixture fixture, ITestOutputHelper output)
        : base(AkkaTestConfig.Default, output: output)
    {
        _fixture = fixture;
        _engine = Sys.ActorOf(InferenceEngine.Props(fixture.Model, new DecodeLoopOptions(16, 512, MemoryMode.Shuffle, fixture.Eos), Gpt2Tokenizer.Default, clock: _clock), "engine");
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
    public async Task When_a_request_in_the_middle_finishes_the_shuffle_actor_compacts_and_the_others_stay_exact()
    {
        TestProbe shuffles = CreateTestProbe();
        Sys.EventStream.Subscribe(shuffles.Ref, typeof(KvShuffled));
        TestProbe summaries = CreateTestProbe();
        Sys.EventStream.Subscribe(summaries.Ref, typeof(IterationSummary));
        using var gated = new GatedModel(_fixture.Model);
        var options = new DecodeLoopOptions(16, 512, MemoryMode.Shuffle, _fixture.Eos, IterationEventsInterval: TimeSpan.FromHours(1));
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(gated, options, Gpt2Tokenizer.Default, clock: _clock), "shuffling");
        var longRun = new SamplingParameters { Temperature = 0, MaxTokens = 30, IgnoreEos = true };
        int[][] prompts = [[11, 12], [21, 22], [31, 32]];
        var expected = prompts.Select(p => _fixture.Alone(p, longRun).Tokens.Select(t => t.TokenId).ToList()).ToList();
        var probes = prompts.Select(_ => CreateTestProbe()).ToList();

        // Hold the shard inside A's second step while B (short) then C register, in this order: the
        // loop takes them at once (it never blocks on its shard) and admits them together at the
        // next iteration, into slots 1 and 2; B finishing leaves the hole in the middle.
        gated.Close();
        engine.Tell(new Generate(prompts[0], longRun), probes[0].Ref);
        Token firstOfA = probes[0].ExpectMsg<Token>(TimeSpan.FromSeconds(30));
        Assert.True(await gated.Waiting.WaitAsync(TimeSpan.FromSeconds(30)), "the shard never reached its next decode");
        engine.Tell(new Generate(prompts[1], longRun with { MaxTokens = 2 }), probes[1].Ref);
        AwaitLoop(engine, status => status.Waiting == 1);
        engine.Tell(new Generate(prompts[2], longRun), probes[2].Ref);
        AwaitLoop(engine, status => status.Waiting == 2);
        gated.Open();

        KvShuffled shuffle = shuffles.ExpectMsg<KvShuffled>(TimeSpan.FromSeconds(30));
        Assert.Equal(1, shuffle.Moves);
        Assert.True(shuffle.Bytes > 0);
        foreach (int i in new[] { 0, 2 })
        {
            var ids = i == 0 ? new List<int> { firstOfA.TokenId } : [];
            while (probes[i].ReceiveOne(TimeSpan.FromSeconds(30)) is Token token)
            {
                ids.Add(token.TokenId);
            }

            Assert.Equal(expected[i], ids);
        }
    }

    [Fact]
    public void The_loop_publishes_an_iteration_summary_on_the_event_stream_as_it_goes_idle()
    {
        TestProbe summaries = CreateTestProbe();
        Sys.EventStream.Subscribe(summaries.Ref, typeof(IterationSummary));
        // The engine's clock never moves here, so the interval never passes: the only summary is
        // the one published as the loop goes idle, covering the whole run.
        var options = new DecodeLoopOptions(16, 512, MemoryMode.Indexed, _fixture.Eos, IterationEventsInterval: TimeSpan.FromMilliseconds(250));
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(_fixture.Model, options, Gpt2Tokenizer.Default, clock: _clock), "summarised");

        engine.Tell(new Generate([1, 2, 3], new SamplingParameters { Temperature = 0, MaxTokens = 5, IgnoreEos = true }));
        Assert.Equal(FinishReason.Length, FishForMessage<Completed>(_ => true, TimeSpan.FromSeconds(30)).FinishReason);

        IterationSummary summary = summaries.ExpectMsg<IterationSummary>(TimeSpan.FromSeconds(30));
        Assert.Equal((5L, 0, 0, "fused"), (summary.Tokens, summary.Running, summary.Waiting, summary.Kind));
        Assert.Equal(summary.Iterations, summary.RowsPerStep.Count);
        Assert.Equal(1, summary.MaxRows);
        Assert.Equal(TinyModelFixture.Slots, summary.Slots.Count);
        Assert.All(summary.Slots, slot => Assert.Equal(KvSlotState.Free, slot.State));
        summaries.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_request_past_its_deadline_completes_with_Timeout()
    {
        // Mid-flight expiry is tested on the loop itself (FusedDecodeLoopTests); here the deadline
        // has passed on the engine's clock before the first iteration, so no token is produced.
        _engine.Tell(new Generate([1, 2, 3], new SamplingParameters { Temperature = 0, MaxTokens = 40 }, null, _clock.Now.AddSeconds(-1)));

        var completed = ExpectMsg<Completed>(TimeSpan.FromSeconds(30));
        Assert.Equal((FinishReason.Timeout, 0), (completed.FinishReason, completed.Usage.CompletionTokens));
    }

    [Fact]
    public async Task A_cancel_that_arrives_during_a_step_ends_the_request_when_the_step_completes_without_its_token()
    {
        using var gated = new GatedModel(_fixture.Model);
        IActorRef engine = await StartHeldInSecondDecode(gated, "gated");

        // The shard is held inside the decode of token 1; the loop takes the cancel at once (the
        // request actor's one hop, sent here directly so the probe after it is answered only once
        // the loop has it).
        IActorRef loop = DecodeLoopOf(engine);
        loop.Tell(new CancelRequest(1));
        loop.Tell(ProbeEngine.Instance);
        Assert.NotNull(ExpectMsg<EngineStatus>(TimeSpan.FromSeconds(30)).StepAge);
        gated.Open();

        var completed = ExpectMsg<Completed>(TimeSpan.FromSeconds(30));
        Assert.Equal((FinishReason.Cancelled, 1), (completed.FinishReason, completed.Usage.CompletionTokens));
    }

    [Fact]
    public async Task Requests_in_flight_complete_with_Error_when_the_decode_loop_dies()
    {
        using var gated = new GatedModel(_fixture.Model);
        IActorRef engine = await StartHeldInSecondDecode(gated, "dying");

        // Stopped while held inside a decode: the loop dies right after that step.
        Sys.Stop(DecodeLoopOf(engine));
        gated.Open();

        var completed = (Completed)FishForMessage(m => m is Completed, TimeSpan.FromSeconds(30));
        Assert.Equal((FinishReason.Error, "the decode loop stopped"), (completed.FinishReason, completed.Error));
    }

    [Fact]
    public void A_prompt_too_long_for_a_slot_is_Rejected_with_the_reason()
    {
        _engine.Tell(new Generate(new int[TinyModelFixture.Capacity], new SamplingParameters()));

        Assert.StartsWith("the prompt has 48 tokens", ExpectMsg<Rejected>(TimeSpan.FromSeconds(30)).Reason, StringComparison.Ordinal);
    }

    /// <summary>Starts an engine on <paramref name="gated"/>, sends a long greedy request, and returns once its first token arrived and the loop is held inside the next decode.</summary>
    private async Task<IActorRef> StartHeldInSecondDecode(GatedModel gated, string name)
    {
        IActorRef engine = Sys.ActorOf(InferenceEngine.Props(gated, new DecodeLoopOptions(16, 512, MemoryMode.Indexed, _fixture.Eos), Gpt2Tokenizer.Default), name);
        gated.Close();
        engine.Tell(new Generate([1, 2, 3], new SamplingParameters { Temperature = 0, MaxTokens = 40, IgnoreEos = true }));
        ExpectMsg<Token>(TimeSpan.FromSeconds(30));
        Assert.True(await gated.Waiting.WaitAsync(TimeSpan.FromSeconds(30)), "the loop never reached its next decode");
        return engine;
    }

    /// <summary>The engine's decode-loop child (an actor created with Sys.ActorOf is a repointable reference; its cell holds the children).</summary>
    private static IActorRef DecodeLoopOf(IActorRef engine) => ((ActorRefWithCell)engine).Underlying.GetSingleChild("decode-loop");

    /// <summary>Probes the engine until its loop's status satisfies <paramref name="condition"/> (the loop answers during a step too).</summary>
    private void AwaitLoop(IActorRef engine, Func<EngineStatus, bool> condition)
    {
        TestProbe probe = CreateTestProbe();
        AwaitCondition(() =>
        {
            engine.Tell(ProbeEngine.Instance, probe.Ref);
            return condition(probe.ExpectMsg<EngineStatus>(TimeSpan.FromSeconds(30)));
        }, TimeSpan.FromSeconds(30));
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
