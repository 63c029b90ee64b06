using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Gpu.Memory;
using Flover.Host.Http.Events;

namespace Flover.Host.Tests.Http.Events;

/// <summary>The forwarder caps viewers at four events a second, merging what the loop publishes faster (virtual time).</summary>
public sealed class EngineEventForwarderTests() : TestKit(ConfigurationFactory.ParseString("""akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit" """))
{
    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    [Fact]
    public void Summaries_faster_than_the_interval_reach_viewers_merged_once_it_has_passed()
    {
        var hub = new EngineEventHub(maxViewers: 1);
        Assert.True(hub.TryAdd(out EventViewer viewer));
        IActorRef forwarder = Sys.ActorOf(EngineEventForwarder.Props(hub));
        Barrier(forwarder);
        DateTimeOffset t0 = Scheduler.Now;

        Publish(forwarder, Summary(t0, iterations: 1, tokens: 1, moves: []));
        Assert.Equal([1], Read(viewer).Select(s => s.GetProperty("iterations").GetInt32()));

        Publish(forwarder, Summary(t0.AddMilliseconds(10), iterations: 2, tokens: 4, moves: [new SlotMove(3, 1)]));
        Publish(forwarder, Summary(t0.AddMilliseconds(20), iterations: 3, tokens: 6, moves: [new SlotMove(2, 0)]));
        Scheduler.Advance(EngineEventForwarder.MinInterval - TimeSpan.FromMilliseconds(1));
        Barrier(forwarder);
        Assert.Empty(Read(viewer));

        Scheduler.Advance(TimeSpan.FromMilliseconds(1));
        Barrier(forwarder);
        System.Text.Json.JsonElement merged = Assert.Single(Read(viewer));
        Assert.Equal(5, merged.GetProperty("iterations").GetInt32());
        Assert.Equal(10, merged.GetProperty("tokens").GetInt64());
        Assert.Equal(5, merged.GetProperty("rows_per_step").GetArrayLength());
        Assert.Equal("[[3,1],[2,0]]", merged.GetProperty("moves").GetRawText());
        Assert.Equal(t0.AddMilliseconds(10), merged.GetProperty("start").GetDateTimeOffset());
    }

    private static IterationSummary Summary(DateTimeOffset start, int iterations, long tokens, IReadOnlyList<SlotMove> moves) =>
        new(start, start.AddMilliseconds(10), "fused", iterations, [.. Enumerable.Repeat(2, iterations)], 2, 2, tokens, tokens / 0.01, [KvSlot.Free], moves, 0, 1);

    private static List<System.Text.Json.JsonElement> Read(EventViewer viewer)
    {
        var events = new List<System.Text.Json.JsonElement>();
        while (viewer.Events.TryRead(out byte[]? json))
        {
            events.Add(System.Text.Json.JsonDocument.Parse(json).RootElement);
        }

        return events;
    }

    private void Publish(IActorRef forwarder, IterationSummary summary)
    {
        Sys.EventStream.Publish(summary);
        Barrier(forwarder);
    }

    /// <summary>Everything sent to the forwarder before has been handled when Identify is answered (its mailbox is FIFO).</summary>
    private void Barrier(IActorRef forwarder)
    {
        forwarder.Tell(new Identify(null), TestActor);
        ExpectMsg<ActorIdentity>();
    }
}
