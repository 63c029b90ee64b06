using Flover.Actors.Inference;
using Flover.Actors.Inference.Baselines;
using Flover.Gpu.Models;
using Flover.Gpu.Memory;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Tests.Inference.Baselines;

[Trait("Category", "Slow")]
public sealed class DynamicBatchSchedulerTests(SharedTinyFixture fixture) : IClassFixture<SharedTinyFixture>
{
    private static readonly TimeSpan s_delay = TimeSpan.FromMilliseconds(100);
    private static readonly int[] s_prompt = [464, 2068, 7586];

    [Fact]
    public void A_partial_batch_waits_until_the_oldest_request_has_waited_max_queue_delay()
    {
        var clock = new ManualClock();
        DateTimeOffset start = clock.Now;
        var scheduler = Create(clock, maxBatch: 4);
        Submit(scheduler, 1, 3);
        clock.Now = start + TimeSpan.FromMilliseconds(40);
        Submit(scheduler, 2, 3);

        clock.Now = start + TimeSpan.FromMilliseconds(99);
        IterationReport early = scheduler.Step();

        Assert.Empty(early.Tokens);
        Assert.Equal(0, early.PrefillTokens);
        Assert.Equal(start + s_delay, scheduler.NextStepAt);
        Assert.Equal(2, scheduler.WaitingCount);

        clock.Now = start + s_delay;
        Assert.Null(scheduler.NextStepAt);
        IterationReport started = scheduler.Step();

        Assert.Equal(2 * s_prompt.Length, started.PrefillTokens);
        Assert.Equal([1L, 2L], started.Tokens.Select(t => t.RequestId));
        Assert.Equal(0, scheduler.WaitingCount);
        Assert.Equal(2, scheduler.SlotsUsed);
        Assert.Equal(4 - 2, scheduler.SlotsFree);
    }

    [Fact]
    public void A_full_batch_starts_at_once_without_waiting_for_the_window()
    {
        var clock = new ManualClock();
        var scheduler = Create(clock, maxBatch: 2);
        Submit(scheduler, 1, 3);
        Submit(scheduler, 2, 3);
        Submit(scheduler, 3, 3);

        Assert.Null(scheduler.NextStepAt);
        IterationReport started = scheduler.Step();

        Assert.Equal([1L, 2L], started.Tokens.Select(t => t.RequestId));
        Assert.Equal(1, scheduler.WaitingCount);
    }

    [Fact]
    public void Nobody_joins_a_running_batch_and_finished_rows_keep_being_computed_until_the_longest_is_done()
    {
        var clock = new ManualClock();
        var scheduler = Create(clock, maxBatch: 4);
        Submit(scheduler, 1, maxTokens: 2);
        Submit(scheduler, 2, maxTokens: 5);
        clock.Now += s_delay;
        scheduler.Step();
        Submit(scheduler, 3, maxTokens: 2);
        clock.Now += s_delay;
        var rows = new List<(int Rows, int Live)>();
        var finishedAt = new Dictionary<long, int>();
        for (int step = 1; scheduler.HasWork; step++)
        {
            IterationReport report = scheduler.Step();
            Assert.DoesNotContain(report.Tokens, t => t.RequestId == 3 && step < 5);
            rows.Add((report.DecodeRows, report.LiveRows));
            foreach (LoopFinished finished in report.Finished)
            {
                finishedAt[finished.RequestId] = step;
            }
        }

        // Request 1 ends at step 1 (its 2nd token); its row is computed on through steps 2-4 with request 2's.
        Assert.Equal(1, finishedAt[1]);
        Assert.Equal(4, finishedAt[2]);
        Assert.Equal([(2, 2), (2, 1), (2, 1), (2, 1)], rows.Take(4));
        // Request 3 waited for the whole batch, then ran alone: prefill (first token) and one decode.
        Assert.Equal(6, finishedAt[3]);
        Assert.Equal([(0, 0), (1, 1)], rows.Skip(4));
    }

    [Fact]
    public void A_cancelled_waiting_request_leaves_without_starting_a_batch()
    {
        var clock = new ManualClock();
        var scheduler = Create(clock, maxBatch: 4);
        Submit(scheduler, 1, 3);
        scheduler.Cancel(1);

        IterationReport report = scheduler.Step();

        Assert.Equal(FinishReason.Cancelled, Assert.Single(report.Finished).Reason);
        Assert.False(scheduler.HasWork);
        Assert.Null(scheduler.NextStepAt);
    }

    [Fact]
    public void A_batch_larger_than_the_models_slots_is_refused()
    {
        IDecodeScheduler Build() => new DynamicBatchScheduler(ModelShape.Of(fixture.Model(2)), 3, s_delay, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, fixture.Eos));

        Assert.Contains("3 KV slots", Assert.Throws<ArgumentException>(Build).Message);
    }

    private DynamicBatchScheduler Create(ManualClock clock, int maxBatch)
    {
        IModel model = fixture.Model(maxBatch);
        return new DynamicBatchScheduler(ModelShape.Of(model), maxBatch, s_delay, new DecodeLoopOptions(8, 512, MemoryMode.Indexed, fixture.Eos), clock).On(model);
    }

    private static void Submit(DynamicBatchScheduler scheduler, long id, int maxTokens) =>
        Assert.Null(scheduler.Submit(id, s_prompt, new SamplingParameters { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true }));
}
