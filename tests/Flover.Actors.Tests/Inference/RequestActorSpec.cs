using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference;

/// <summary>The RequestActor against a probe standing in for the decode loop.</summary>
public sealed class RequestActorSpec(ITestOutputHelper output) : TestKit(AkkaTestConfig.Default, output: output)
{
    private static readonly Gpt2Tokenizer s_tokenizer = Gpt2Tokenizer.Default;

    // GPT-2's vocabulary and a context of 1024: the request actor checks prompts against it before registering.
    private static readonly Flover.Gpu.Models.ModelShape s_shape = new(50257, 4, 1024, 0);

    [Fact]
    public void A_token_produced_after_the_stop_sequence_is_discarded_and_the_loop_is_told_to_retire_the_request()
    {
        TestProbe loop = CreateTestProbe();
        int[] ids = s_tokenizer.Encode("Hello world. Goodbye");
        var generate = new Generate([1], new SamplingParameters(), [" world"]);
        Sys.ActorOf(Props.Create(() => new RequestActor(1, generate, TestActor, loop.Ref, s_tokenizer, s_shape)));
        loop.ExpectMsg<RegisterRequest>();

        for (int i = 0; i < ids.Length; i++)
        {
            loop.Reply(new LoopToken(1, i, new SampledToken(ids[i], null, null, null)));
        }

        Assert.Equal("Hello", ExpectMsg<Token>().TextDelta);
        Assert.Equal(string.Empty, ExpectMsg<Token>().TextDelta);
        loop.ExpectMsg(new StopSequenceFound(1));
        loop.Reply(new LoopFinished(1, FinishReason.StopSequence, 1, ids.Length));
        var completed = ExpectMsg<Completed>();
        Assert.Equal((FinishReason.StopSequence, 2, string.Empty), (completed.FinishReason, completed.Usage.CompletionTokens, completed.TrailingText));
    }

    [Fact]
    public void The_end_of_sequence_token_that_finishes_a_request_adds_no_text()
    {
        TestProbe loop = CreateTestProbe();
        var generate = new Generate([1], new SamplingParameters());
        Sys.ActorOf(Props.Create(() => new RequestActor(1, generate, TestActor, loop.Ref, s_tokenizer, s_shape)));
        loop.ExpectMsg<RegisterRequest>();
        int hello = s_tokenizer.Encode("Hello")[0];

        loop.Reply(new LoopToken(1, 0, new SampledToken(hello, null, null, null)));
        loop.Reply(new LoopToken(1, 1, new SampledToken(s_tokenizer.EndOfTextId, null, null, FinishReason.Eos)));
        loop.Reply(new LoopFinished(1, FinishReason.Eos, 1, 2));

        Assert.Equal("Hello", ExpectMsg<Token>().TextDelta);
        Token eos = ExpectMsg<Token>();
        Assert.Equal((s_tokenizer.EndOfTextId, string.Empty), (eos.TokenId, eos.TextDelta));
        var completed = ExpectMsg<Completed>();
        Assert.Equal((FinishReason.Eos, 2, string.Empty), (completed.FinishReason, completed.Usage.CompletionTokens, completed.TrailingText));
    }

    [Fact]
    public void An_emoji_split_across_tokens_is_sent_whole_with_its_last_byte()
    {
        TestProbe loop = CreateTestProbe();
        int[] ids = s_tokenizer.Encode("🦊");
        Assert.True(ids.Length > 1);
        var generate = new Generate([1], new SamplingParameters());
        Sys.ActorOf(Props.Create(() => new RequestActor(1, generate, TestActor, loop.Ref, s_tokenizer, s_shape)));
        loop.ExpectMsg<RegisterRequest>();

        for (int i = 0; i < ids.Length; i++)
        {
            loop.Reply(new LoopToken(1, i, new SampledToken(ids[i], null, null, null)));
        }

        var deltas = ReceiveN(ids.Length).Cast<Token>().Select(t => t.TextDelta).ToList();
        Assert.Equal("🦊", string.Concat(deltas));
        Assert.Equal(string.Empty, deltas[0]);
    }

    [Fact]
    public void Cancel_from_the_client_and_the_client_stopping_both_cancel_in_the_loop()
    {
        TestProbe loop = CreateTestProbe();
        TestProbe client = CreateTestProbe();
        var generate = new Generate([1], new SamplingParameters());
        IActorRef request = Sys.ActorOf(Props.Create(() => new RequestActor(7, generate, client.Ref, loop.Ref, s_tokenizer, s_shape)));
        loop.ExpectMsg<RegisterRequest>();

        request.Tell(Cancel.Instance);
        loop.ExpectMsg(new CancelRequest(7));
        Sys.Stop(client.Ref);
        loop.ExpectMsg(new CancelRequest(7));
    }
}
