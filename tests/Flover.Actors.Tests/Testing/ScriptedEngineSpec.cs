using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Gpu.Sampling;
using Flover.Testing;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Testing;

/// <summary>The test double users test their actors against: the same protocol as the engine, scripted, in virtual time.</summary>
public sealed class ScriptedEngineSpec(ITestOutputHelper output) : TestKit(AkkaTestConfig.VirtualTime, output: output)
{
    private static readonly SamplingParameters Sampling = new() { MaxTokens = 8 };

    [Fact]
    public void Tokens_arrive_at_the_scripted_pace_in_virtual_time_with_consecutive_indices_and_one_Completed()
    {
        IActorRef engine = Sys.ActorOf(ScriptedEngine.Props(ScriptedReply.Tokens(["Hel", "lo", "!"], interval: TimeSpan.FromSeconds(1))));
        engine.Tell(Generate.FromText("Hi", Sampling, "r1"));
        // Answered after the Generate: the first token's timer is armed; nothing comes before time moves.
        engine.Tell(ProbeEngine.Instance);
        Assert.Equal(1, ExpectMsg<EngineStatus>(TimeSpan.FromSeconds(10)).Running);

        var scheduler = (TestScheduler)Sys.Scheduler;
        var texts = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            scheduler.Advance(TimeSpan.FromSeconds(1));
            Token token = ExpectMsg<Token>(TimeSpan.FromSeconds(10));
            Assert.Equal((i, "r1"), (token.Index, token.CorrelationId));
            texts.Add(token.TextDelta);
        }

        scheduler.Advance(TimeSpan.FromSeconds(1));
        var completed = ExpectMsg<Completed>(TimeSpan.FromSeconds(10));
        Assert.Equal((FinishReason.Length, 3, "r1"), (completed.FinishReason, completed.Usage.CompletionTokens, completed.CorrelationId));
        Assert.Equal("Hello!", string.Concat(texts));
    }

    [Fact]
    public void Cancel_ends_a_scripted_request_with_Cancelled()
    {
        IActorRef engine = Sys.ActorOf(ScriptedEngine.Props(ScriptedReply.Tokens(["a", "b", "c"], interval: TimeSpan.FromSeconds(1))));
        engine.Tell(new Generate([1, 2], Sampling) { CorrelationId = "c" });
        engine.Tell(ProbeEngine.Instance);
        ExpectMsg<EngineStatus>(TimeSpan.FromSeconds(10));
        ((TestScheduler)Sys.Scheduler).Advance(TimeSpan.FromSeconds(1));
        ExpectMsg<Token>(TimeSpan.FromSeconds(10));

        LastSender.Tell(Cancel.Instance);

        var completed = ExpectMsg<Completed>(TimeSpan.FromSeconds(10));
        Assert.Equal((FinishReason.Cancelled, 1), (completed.FinishReason, completed.Usage.CompletionTokens));
    }

    [Fact]
    public void A_script_chooses_per_request_rejections_and_failures_and_the_engine_remembers_what_it_received()
    {
        IActorRef engine = Sys.ActorOf(ScriptedEngine.Props(request => request.CorrelationId switch
        {
            "busy" => ScriptedReply.Reject(RejectionCode.QueueFull, "the waiting queue is full"),
            "broken" => ScriptedReply.FailAfter(["x"], "the device fell off the bus"),
            _ => ScriptedReply.Tokens(["ok"]),
        }));

        engine.Tell(new Generate([1], Sampling) { CorrelationId = "busy" });
        var rejected = ExpectMsg<Rejected>(TimeSpan.FromSeconds(10));
        engine.Tell(new Generate([1], Sampling) { CorrelationId = "broken" });
        ExpectMsg<Token>(TimeSpan.FromSeconds(10));
        var failed = ExpectMsg<Completed>(TimeSpan.FromSeconds(10));
        engine.Tell(ReceivedRequests.Instance);

        Assert.Equal((RejectionCode.QueueFull, true, "busy"), (rejected.Code, rejected.QueueFull, rejected.CorrelationId));
        Assert.Equal((FinishReason.Error, "the device fell off the bus"), (failed.FinishReason, failed.Error));
        Assert.Equal(["busy", "broken"], ExpectMsg<Generate[]>(TimeSpan.FromSeconds(10)).Select(g => g.CorrelationId));
    }

    [Fact]
    public void A_draining_double_rejects_as_draining()
    {
        IActorRef engine = Sys.ActorOf(ScriptedEngine.Props(ScriptedReply.Tokens(["ok"])));
        engine.Tell(StartDraining.Instance);
        ExpectMsg<EngineDraining>(TimeSpan.FromSeconds(10));

        engine.Tell(new Generate([1], Sampling) { CorrelationId = "late" });

        Assert.Equal(RejectionCode.Draining, ExpectMsg<Rejected>(TimeSpan.FromSeconds(10)).Code);
    }
}
