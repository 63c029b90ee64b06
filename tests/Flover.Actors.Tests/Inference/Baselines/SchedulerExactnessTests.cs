using Flover.Actors.Inference;
using Flover.Configuration;
using Flover.Gpu.Memory;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Tests.Inference.Baselines;

[Trait("Category", "Slow")]
public sealed class SchedulerExactnessTests(SharedTinyFixture fixture) : IClassFixture<SharedTinyFixture>
{
    public static TheoryData<string, int?> Schedulers => new()
    {
        { "fused", 2 },
        { "dynamic", 2 },
        { "instances", 2 },
        { "instances", null },
        { "sequential", 2 },
    };

    [Theory]
    [MemberData(nameof(Schedulers))]
    public void Every_request_gets_exactly_the_tokens_it_gets_alone_under_every_scheduler(string kind, int? instances)
    {
        var clock = new ManualClock();
        List<ScenarioRequest> requests = Scenario(seed: 5, count: 9);
        var expected = requests.ToDictionary(r => r.Id, r => fixture.Alone(r.Prompt, r.Parameters));
        var settings = new SchedulerSettings(kind, 3, TimeSpan.FromMilliseconds(30), instances);
        var engine = new EngineSettings(1, "auto", 6, SharedTinyFixture.Capacity, 512, 64, "indexed");
        IDecodeScheduler scheduler = SchedulerFactory.Create(settings, engine, new DecodeLoopOptions(64, 512, MemoryMode.Indexed, fixture.Eos), fixture.Shape, fixture.Instances, clock);
        if (scheduler.ModelSlots > 0)
        {
            scheduler.On(fixture.Model(scheduler.ModelSlots));
        }

        try
        {
            Assert.Equal(kind, scheduler.Kind);
            var tokens = requests.ToDictionary(r => r.Id, _ => new List<int>());
            var reasons = new Dictionary<long, FinishReason>();
            for (int iteration = 0; reasons.Count < requests.Count; iteration++)
            {
                Assert.True(iteration < 1000, "the scheduler stopped making progress");
                foreach (ScenarioRequest request in requests.Where(r => r.ArrivalIteration == iteration))
                {
                    Assert.Null(scheduler.Submit(request.Id, request.Prompt, request.Parameters));
                }

                if (scheduler.HasWork)
                {
                    IterationReport report = scheduler.Step();
                    Assert.False(report.Failed);
                    foreach (LoopToken token in report.Tokens)
                    {
                        Assert.Equal(tokens[token.RequestId].Count, token.Index);
                        tokens[token.RequestId].Add(token.Token.TokenId);
                    }

                    foreach (LoopFinished finished in report.Finished)
                    {
                        reasons.Add(finished.RequestId, finished.Reason);
                        Assert.Equal(tokens[finished.RequestId].Count, finished.GeneratedTokens);
                    }
                }

                clock.Now += TimeSpan.FromMilliseconds(10);
            }

            foreach (ScenarioRequest request in requests)
            {
                Assert.Equal(expected[request.Id], tokens[request.Id]);
            }

            // The fused loop takes one more step after the last departure, to hand the slots' memory back; it produces nothing.
            if (scheduler.HasWork)
            {
                Assert.Equal("fused", kind);
                IterationReport release = scheduler.Step();
                Assert.Empty(release.Tokens);
                Assert.Empty(release.Finished);
            }

            Assert.False(scheduler.HasWork);
        }
        finally
        {
            (scheduler as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public void An_unknown_kind_is_refused_by_name()
    {
        var settings = new SchedulerSettings("static", 3, TimeSpan.Zero, 2);
        var engine = new EngineSettings(1, "auto", 6, SharedTinyFixture.Capacity, 512, 64, "indexed");

        var error = Assert.Throws<Gpu.FloverException>(() => SchedulerFactory.Create(settings, engine, new DecodeLoopOptions(64, 512, MemoryMode.Indexed, fixture.Eos), fixture.Shape, fixture.Instances));

        Assert.Contains("'static'", error.Message);
    }

    internal static List<ScenarioRequest> Scenario(int seed, int count)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(1, count).Select(id => new ScenarioRequest(
            id,
            random.Next(0, 12),
            [.. Enumerable.Range(0, random.Next(1, 12)).Select(_ => random.Next(0, 50257))],
            id % 2 == 0
                ? new SamplingParameters { Temperature = 0, MaxTokens = random.Next(1, 14) }
                : new SamplingParameters { Temperature = 0.9f, TopK = 40, Seed = (ulong)(1000 + id), MaxTokens = random.Next(1, 14) }))];
    }
}
