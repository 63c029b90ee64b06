using Flover.Actors.Inference;
using Flover.Actors.Inference.Baselines;
using Flover.Gpu.Models;
using Flover.Gpu.Memory;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Tests.Inference.Baselines;

[Trait("Category", "Slow")]
public sealed class InstancesSchedulerTests(SharedTinyFixture fixture) : IClassFixture<SharedTinyFixture>
{
    private static readonly int[] s_prompt = [464, 2068, 7586];

    [Fact]
    public void Each_instance_serves_one_request_at_a_time_and_an_idle_one_takes_the_oldest_waiting()
    {
        using var scheduler = new InstancesScheduler([fixture.Model(1), fixture.Model(1)], Options());
        Submit(scheduler, 1, maxTokens: 2);
        Submit(scheduler, 2, maxTokens: 6);
        Submit(scheduler, 3, maxTokens: 1);
        var started = new HashSet<long>();
        var done = new HashSet<long>();
        var tokens = new Dictionary<long, int>();
        while (scheduler.HasWork)
        {
            IterationReport report = scheduler.Step();
            foreach (LoopToken token in report.Tokens)
            {
                started.Add(token.RequestId);
                tokens[token.RequestId] = token.Index + 1;
            }

            // Request 3 starts only once an instance is free, and never more than two run at once.
            Assert.True(!started.Contains(3) || done.Contains(1) || done.Contains(2), "request 3 started before an instance was free");
            Assert.True(started.Count - done.Count <= 2);
            done.UnionWith(report.Finished.Select(f => f.RequestId));
            Assert.True(scheduler.RunningCount <= 2);
            Assert.Equal(2 - scheduler.RunningCount, scheduler.SlotsFree);
        }

        Assert.Equal(new Dictionary<long, int> { [1] = 2, [2] = 6, [3] = 1 }, tokens);
    }

    [Fact]
    public void Per_request_instances_are_created_only_when_no_instance_is_idle()
    {
        int created = 0;
        using var scheduler = new InstancesScheduler(i => { created++; return fixture.Model(1); }, Options());
        Assert.Equal(1, created);
        Submit(scheduler, 1, maxTokens: 3);
        Submit(scheduler, 2, maxTokens: 3);
        Submit(scheduler, 3, maxTokens: 3);

        scheduler.Step();

        Assert.Equal(3, created);
        Assert.Equal(3, scheduler.InstanceCount);
        while (scheduler.HasWork)
        {
            scheduler.Step();
        }

        Submit(scheduler, 4, maxTokens: 1);
        scheduler.Step();
        Assert.Equal(3, created);
    }

    [Fact]
    public void Sequential_runs_the_next_request_only_after_the_current_one_finished()
    {
        IModel model = fixture.Model(1);
        var scheduler = new SequentialScheduler(ModelShape.Of(model), Options()).On(model);
        Submit(scheduler, 1, maxTokens: 2);
        Submit(scheduler, 2, maxTokens: 2);
        var order = new List<long>();
        while (scheduler.HasWork)
        {
            order.AddRange(scheduler.Step().Tokens.Select(t => t.RequestId));
        }

        Assert.Equal([1L, 1L, 2L, 2L], order);
    }

    private DecodeLoopOptions Options() => new(8, 512, MemoryMode.Indexed, fixture.Eos);

    private static void Submit(IDecodeScheduler scheduler, long id, int maxTokens) =>
        Assert.Null(scheduler.Submit(id, s_prompt, new SamplingParameters { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true }));
}
