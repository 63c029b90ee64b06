using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flover.Actors.Inference;
using Flover.Actors.Inference.Sharding;
using Flover.Configuration;
using Flover.Gpu.Memory;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tokenization;
using Xunit.Abstractions;

namespace Flover.Actors.Tests.Inference.Baselines;

/// <summary>The engine's decode loop actor driving every scheduler through the public protocol, on virtual time.</summary>
[Trait("Category", "Slow")]
public sealed class SchedulerEngineSpec(SharedTinyFixture fixture, ITestOutputHelper output) : TestKit(AkkaTestConfig.VirtualTime, output: output), IClassFixture<SharedTinyFixture>
{
    private readonly ManualClock _clock = new();

    [Theory]
    [InlineData("fused")]
    [InlineData("dynamic")]
    [InlineData("instances")]
    [InlineData("sequential")]
    public void Concurrent_requests_get_the_tokens_they_get_alone_under_every_scheduler(string kind)
    {
        IActorRef engine = Engine(kind, TimeSpan.Zero);
        var requests = Enumerable.Range(0, 4).Select(i => (Prompt: new[] { 100 + i, 200 + i }, Sampling: new SamplingParameters { Temperature = i % 2 == 0 ? 0 : 1, Seed = (ulong)i, MaxTokens = 3 + i })).ToList();
        var probes = requests.Select(r =>
        {
            TestProbe probe = CreateTestProbe();
            engine.Tell(new Generate(r.Prompt, r.Sampling), probe.Ref);
            return probe;
        }).ToList();

        for (int i = 0; i < probes.Count; i++)
        {
            Assert.Equal(fixture.Alone(requests[i].Prompt, requests[i].Sampling), Collect(probes[i]));
        }
    }

    [Fact]
    public void A_dynamic_batch_starts_when_the_window_timer_fires_on_the_loop()
    {
        var window = TimeSpan.FromMilliseconds(200);
        IActorRef engine = Engine("dynamic", window);
        var sampling = new SamplingParameters { Temperature = 0, MaxTokens = 2 };
        TestProbe probe = CreateTestProbe();
        engine.Tell(new Generate([5, 6], sampling), probe.Ref);

        // Advance only once the loop holds the request: its registration arms the window's timer
        // in the same message, so virtual time never moves past a timer not yet started.
        AwaitCondition(() =>
        {
            engine.Tell(ProbeEngine.Instance, TestActor);
            return ExpectMsg<EngineStatus>(TimeSpan.FromSeconds(30)).Waiting == 1;
        }, TimeSpan.FromSeconds(30));
        Assert.False(probe.HasMessages);
        _clock.Now += window;
        ((TestScheduler)Sys.Scheduler).Advance(window);

        Assert.Equal(fixture.Alone([5, 6], sampling), Collect(probe));
    }

    [Fact]
    public void With_a_minimum_step_interval_each_step_waits_for_it_from_the_last_step_s_start()
    {
        var interval = TimeSpan.FromSeconds(1);
        IActorRef engine = Engine("fused", TimeSpan.Zero, interval);
        var sampling = new SamplingParameters { Temperature = 0, MaxTokens = 3 };
        TestProbe probe = CreateTestProbe();
        engine.Tell(new Generate([5, 6], sampling), probe.Ref);
        var ids = new List<int> { probe.ExpectMsg<Token>(TimeSpan.FromSeconds(30)).TokenId };

        for (int step = 2; step <= 3; step++)
        {
            // The loop's mailbox is behind the step that sent the token once a probe comes back,
            // so the pace's timer is armed: nothing more arrives until virtual time passes it.
            AssertBetweenStepsWithWork(engine, probe);
            _clock.Now += interval - TimeSpan.FromMilliseconds(1);
            ((TestScheduler)Sys.Scheduler).Advance(interval - TimeSpan.FromMilliseconds(1));
            AssertBetweenStepsWithWork(engine, probe);
            _clock.Now += TimeSpan.FromMilliseconds(1);
            ((TestScheduler)Sys.Scheduler).Advance(TimeSpan.FromMilliseconds(1));
            ids.Add(probe.ExpectMsg<Token>(TimeSpan.FromSeconds(30)).TokenId);
        }

        probe.ExpectMsg<Completed>(TimeSpan.FromSeconds(30));
        Assert.Equal(fixture.Alone([5, 6], sampling), ids);
    }

    /// <summary>The loop holds a running request but no step is in flight or queued: it waits for its pace.</summary>
    private void AssertBetweenStepsWithWork(IActorRef engine, TestProbe client)
    {
        engine.Tell(ProbeEngine.Instance, TestActor);
        EngineStatus status = ExpectMsg<EngineStatus>(TimeSpan.FromSeconds(30));
        Assert.Equal((1, 0), (status.Running, status.ShardsAwaited));
        Assert.False(client.HasMessages);
    }

    private IActorRef Engine(string kind, TimeSpan window, TimeSpan minStepInterval = default)
    {
        var settings = new SchedulerSettings(kind, 3, window, 2);
        var engine = new EngineSettings(1, "auto", 6, SharedTinyFixture.Capacity, 512, 64, "indexed");
        var loop = new DecodeLoopOptions(64, 512, MemoryMode.Indexed, fixture.Eos) { MinStepInterval = minStepInterval };
        // The scheduler's plans run on one shard holding a model of the slots it asks for.
        var shards = new ShardedModel(fixture.Shape, 1, (slots, _) => fixture.Model(slots));
        return Sys.ActorOf(InferenceEngine.Props(() => SchedulerFactory.Create(settings, engine, loop, fixture.Shape, fixture.Instances, _clock), shards, loop, Gpt2Tokenizer.Default, clock: _clock));
    }

    private static List<int> Collect(TestProbe probe)
    {
        var ids = new List<int>();
        while (probe.ReceiveOne(TimeSpan.FromSeconds(30)) is Token token)
        {
            ids.Add(token.TokenId);
        }

        Assert.IsType<Completed>(probe.LastMessage);
        return ids;
    }
}
