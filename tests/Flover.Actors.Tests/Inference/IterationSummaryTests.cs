using Flover.Actors.Inference;
using Flover.Gpu.Memory;
using Flover.Gpu.Sampling;

namespace Flover.Actors.Tests.Inference;

/// <summary>The slot map the schedulers report and the aggregation of iterations into summaries (plain classes, no actors).</summary>
public sealed class IterationSummaryTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    [Theory]
    [InlineData(MemoryMode.Indexed, KvSlotState.Free)]
    [InlineData(MemoryMode.Holes, KvSlotState.Hole)]
    public void A_request_finishing_in_the_middle_leaves_a_free_slot_or_a_hole_by_memory_mode(MemoryMode mode, KvSlotState middle)
    {
        var loop = SchedulerStepping.Fused(fixture.Model, new DecodeLoopOptions(8, 512, mode, fixture.Eos));
        loop.Submit(11, new[] { 1, 2 }, Greedy(8));
        loop.Submit(12, new[] { 3, 4 }, Greedy(1));
        loop.Submit(13, new[] { 5, 6 }, Greedy(8));
        loop.Step();
        loop.Step();
        var slots = new KvSlot[loop.SlotCount];

        loop.DescribeSlots(slots);

        Assert.Equal(TinyModelFixture.Slots, slots.Length);
        Assert.Equal([KvSlot.HeldBy(11), new KvSlot(middle), KvSlot.HeldBy(13), KvSlot.Free, KvSlot.Free, KvSlot.Free], slots);
    }

    [Fact]
    public void Iterations_are_summarised_once_per_interval_with_their_rows_tokens_and_moves()
    {
        var loop = SchedulerStepping.Fused(fixture.Model, new DecodeLoopOptions(8, 512, MemoryMode.Shuffle, fixture.Eos));
        DateTimeOffset start = DateTimeOffset.UnixEpoch;
        var aggregator = new IterationAggregator(TimeSpan.FromSeconds(1), start);
        loop.Submit(1, new[] { 1, 2 }, Greedy(3));
        loop.Submit(2, new[] { 3, 4 }, Greedy(1));
        loop.Submit(3, new[] { 5, 6 }, Greedy(3));

        var reports = new List<IterationReport>();
        while (loop.HasWork)
        {
            IterationReport report = loop.Step();
            reports.Add(report);
            aggregator.Record(report);
            Assert.False(aggregator.Due(start.AddMilliseconds(999), force: false));
        }

        Assert.True(aggregator.Due(start.AddSeconds(1), force: false));
        IterationSummary summary = aggregator.Publish(start.AddSeconds(2), loop);

        Assert.Equal(reports.Count, summary.Iterations);
        Assert.Equal(reports.Select(r => r.DecodeRows), summary.RowsPerStep);
        Assert.Equal(reports.Max(r => r.DecodeRows), summary.MaxRows);
        Assert.Equal(7, summary.Tokens);
        Assert.Equal(3.5, summary.TokensPerSecond);
        // Request 2 left slot 1 after its first token; compacting moved request 3 from slot 2 into it.
        Assert.Equal([new SlotMove(2, 1)], summary.Moves);
        Assert.All(summary.Slots, slot => Assert.Equal(KvSlot.Free, slot));
        Assert.Equal((0, 0, "fused"), (summary.Waiting, summary.Running, summary.Kind));
        Assert.False(aggregator.Due(start.AddSeconds(10), force: true));
    }

    [Fact]
    public void Summaries_off_record_nothing_and_are_never_due()
    {
        var aggregator = new IterationAggregator(TimeSpan.Zero, DateTimeOffset.UnixEpoch);

        aggregator.Record(new IterationReport([], [], null, 3, 3, 0, false));

        Assert.False(aggregator.Enabled);
        Assert.False(aggregator.Due(DateTimeOffset.UnixEpoch.AddHours(1), force: true));
    }

    private static SamplingParameters Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };
}
