using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flover.Actors.Hosting;
using Flover.Actors.Inference;
using Flover.Actors.Serialization;
using Flover.Configuration;
using Flover.Gpu;
using Flover.Gpu.Sampling;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Hosting;

/// <summary>
/// The engine in a user's own actor system, created with one call: the system carries no
/// configuration of ours (Flover injects its defaults and registers its serializer), settings come
/// from Flover's HOCON reader, and when the engine fails the user's system keeps running.
/// </summary>
[Trait("Category", "Slow")]
public sealed class FloverEngineSpec(ITestOutputHelper output)
    : TestKit("akka.loglevel = WARNING\nakka.actor.serialize-messages = on", output: output)
{
    [Fact]
    public void An_engine_made_with_one_call_in_a_plain_system_generates_and_uses_floverss_serializer()
    {
        Config settings = ConfigurationFactory.ParseString("flover.engine { kv-slots = 2, threads = 1 }");
        IActorRef engine = Sys.ActorOf(FloverEngine.Props(Sys, FloverModel.FromPreset("tiny"), settings), "flover");

        engine.Tell(Generate.FromText("Hello", new SamplingParameters { Temperature = 0, MaxTokens = 4, IgnoreEos = true }, "r1"));

        var tokens = new List<Token>();
        object message;
        while ((message = ReceiveOne(TimeSpan.FromSeconds(60))!) is Token token)
        {
            tokens.Add(token);
        }

        var completed = Assert.IsType<Completed>(message);
        Assert.Equal((FinishReason.Length, "r1", 4), (completed.FinishReason, completed.CorrelationId, tokens.Count));
        Assert.IsType<ProtocolSerializer>(Sys.Serialization.FindSerializerFor(completed));
        engine.Tell(ProbeEngine.Instance);
        Assert.Equal(2, ExpectMsg<EngineStatus>(TimeSpan.FromSeconds(30)).KvSlotsFree);
    }

    [Fact]
    public void A_model_that_cannot_be_opened_is_one_line_before_anything_starts()
    {
        var error = Assert.Throws<FloverException>(() => FloverEngine.Props(Sys, FloverModel.FromFolder("/nonexistent/flover-model")));

        Assert.Contains("/nonexistent/flover-model", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_llama_preset_which_has_no_tokenizer_is_one_line_saying_what_to_serve_instead()
    {
        var error = Assert.Throws<FloverException>(() => FloverEngine.Props(Sys, FloverModel.FromPreset("llama-tiny")));

        Assert.Equal("preset 'llama-tiny' is a LLaMA shape without a tokenizer, which serving text needs; serve a LLaMA folder (--model) or a GPT-2 preset (tiny, gpt2, gpt2-medium, gptj-6b); LLaMA presets run in bench-decode and bench.", error.Message);
    }

    [Fact]
    public void When_the_engine_fails_its_requests_complete_with_Error_and_the_users_system_keeps_running()
    {
        IActorRef engine = Sys.ActorOf(FloverEngine.Props(Sys, FloverModel.FromPreset("tiny"), ConfigurationFactory.ParseString("flover.engine.threads = 1")), "failing");
        engine.Tell(new Generate([1, 2, 3], new SamplingParameters { Temperature = 0, MaxTokens = 40, IgnoreEos = true }) { CorrelationId = "doomed" });
        ExpectMsg<Token>(TimeSpan.FromSeconds(60));

        // The engine's decode loop dies (a bug, say): every request in flight is told, nothing hangs.
        Sys.ActorSelection("/user/failing/decode-loop").Tell(Kill.Instance);

        var completed = (Completed)FishForMessage(m => m is Completed, TimeSpan.FromSeconds(30));
        Assert.Equal((FinishReason.Error, "doomed"), (completed.FinishReason, completed.CorrelationId));
        IActorRef mine = Sys.ActorOf(Props.Create(() => new Echo()));
        mine.Tell("still here");
        ExpectMsg("still here", TimeSpan.FromSeconds(10));
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(message => Sender.Tell(message));
    }
}
