using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Gpu.Memory;
using Flover.Host.Http.Events;

namespace Flover.Host.Tests.Http.Events;

/// <summary>The fan-out behind <c>/v1/engine/events</c>: bounded, dropping, never waiting on a viewer.</summary>
public sealed class EngineEventHubTests : TestKit
{
    [Fact]
    public void A_viewer_that_never_reads_does_not_hold_up_publishing_and_keeps_only_the_newest_events()
    {
        var hub = new EngineEventHub(maxViewers: 2);
        Assert.True(hub.TryAdd(out EventViewer stuck));
        Assert.True(hub.TryAdd(out EventViewer reading));

        // Publish runs on the forwarder actor's thread: were it to wait for the stuck viewer,
        // this loop would never end (a queue of 8 and 1,000 events).
        var received = new List<int>();
        for (int i = 1; i <= 1000; i++)
        {
            hub.Publish(Summary(iterations: i));
            while (reading.Events.TryRead(out byte[]? json))
            {
                received.Add(Iterations(json));
            }
        }

        Assert.Equal(Enumerable.Range(1, 1000), received);
        Assert.Equal(1000, stuck.Offered);
        var kept = new List<int>();
        while (stuck.Events.TryRead(out byte[]? json))
        {
            kept.Add(Iterations(json));
        }

        Assert.Equal(Enumerable.Range(1000 - EngineEventHub.ViewerQueue + 1, EngineEventHub.ViewerQueue), kept);
    }

    [Fact]
    public void Viewers_past_the_cap_are_refused_until_one_leaves()
    {
        var hub = new EngineEventHub(maxViewers: 2);
        Assert.True(hub.TryAdd(out EventViewer first));
        Assert.True(hub.TryAdd(out _));

        Assert.False(hub.TryAdd(out _));
        first.Dispose();
        Assert.Equal(1, hub.ViewerCount);
        Assert.True(hub.TryAdd(out _));
    }

    [Fact]
    public void An_event_is_counts_and_ids_only_in_documented_json()
    {
        IterationSummary summary = Summary(iterations: 3) with
        {
            Slots = [KvSlot.HeldBy(12), KvSlot.Hole, KvSlot.Free, KvSlot.HeldBy(7)],
            Moves = [new SlotMove(3, 1)],
        };

        string json = System.Text.Encoding.UTF8.GetString(EngineEventJson.Render(summary, [new RecentRequest(12.34, 4.567, 8, "length"), new RecentRequest(3, null, 1, "eos")]));

        Assert.Equal(
            """{"start":"2026-12-05T01:00:00+00:00","end":"2026-12-05T01:00:00.25+00:00","scheduler":"fused","iterations":3,"rows_per_step":[2,3,3],"max_rows":3,"mean_rows":2.667,"tokens":8,"tokens_per_second":32,"slots":"hofh","slot_requests":[12,null,null,7],"moves":[[3,1]],"waiting":1,"running":2,"recent_requests":[{"ttft_ms":12.3,"tpot_ms":4.57,"tokens":8,"finish_reason":"length"},{"ttft_ms":3,"tpot_ms":null,"tokens":1,"finish_reason":"eos"}]}""",
            json);
    }

    [Fact]
    public void The_forwarder_hands_every_summary_on_the_event_stream_to_the_hub()
    {
        var hub = new EngineEventHub(maxViewers: 1);
        Assert.True(hub.TryAdd(out EventViewer viewer));
        IActorRef forwarder = Sys.ActorOf(EngineEventForwarder.Props(hub));
        // Identify is answered after PreStart, where the forwarder subscribed: a barrier, not a wait.
        forwarder.Tell(new Identify(null), TestActor);
        ExpectMsg<ActorIdentity>();

        Sys.EventStream.Publish(Summary(iterations: 5));

        AwaitCondition(() => viewer.Events.TryPeek(out _));
        Assert.True(viewer.Events.TryRead(out byte[]? json));
        Assert.Equal(5, Iterations(json));
    }

    private static IterationSummary Summary(int iterations)
    {
        var start = new DateTimeOffset(2026, 12, 5, 1, 0, 0, TimeSpan.Zero);
        return new IterationSummary(start, start.AddMilliseconds(250), "fused", iterations, [2, 3, 3], 3, 8 / 3.0, 8, 32, [KvSlot.Free], [], 1, 2);
    }

    private static int Iterations(byte[] json) => System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("iterations").GetInt32();
}
