using Flover.Gpu.Models;
using Flover.Host.Bench;

namespace Flover.Host.Tests.Bench;

public sealed class StepCurveTests
{
    [Fact]
    public void Requests_arriving_together_finish_with_the_longest_at_one_step_per_token()
    {
        double makespan = StepCurve.IdealMakespan([1.0, 1.0], [(0, 3), (0, 5)]);

        Assert.Equal(5, makespan);
    }

    [Fact]
    public void Each_iteration_costs_the_step_time_of_the_sequences_live_in_it()
    {
        // Two live for 2 steps (t(2) = 3), then one alone for 2 more (t(1) = 1).
        double makespan = StepCurve.IdealMakespan([1.0, 3.0], [(0, 2), (0, 4)]);

        Assert.Equal(8, makespan);
    }

    [Fact]
    public void An_idle_gap_waits_for_the_next_arrival_and_the_makespan_starts_at_the_first()
    {
        double makespan = StepCurve.IdealMakespan([1.0], [(5, 2), (15, 2)]);

        Assert.Equal(12, makespan);
    }

    [Fact]
    public void A_request_arriving_mid_run_joins_at_the_next_iteration()
    {
        // At t=0 one sequence (t(1)=1); the second arrives at 0.5 and joins at t=1: two live (t(2)=2) until t=5, then 1 more alone.
        double makespan = StepCurve.IdealMakespan([1.0, 2.0], [(0, 3), (0.5, 3)]);

        Assert.Equal(6, makespan);
    }

    [Fact]
    public void Beyond_the_measured_range_the_step_time_grows_along_the_last_slope()
    {
        Assert.Equal(4, StepCurve.StepTime([1.0, 2.0], 4));
        Assert.Equal(2, StepCurve.StepTime([1.0, 2.0], 2));
    }

    [Fact]
    public void The_curve_times_every_size_round_robin_at_one_position()
    {
        var model = new CountingModel();

        double[] curve = StepCurve.Measure(model, maxRows: 3, position: 500, repeats: 2);

        Assert.Equal(3, curve.Length);
        Assert.All(curve, t => Assert.True(t >= 0));
        // One warm-up per size, then two rounds of 1, 2, 3; the position is clamped into the slot.
        Assert.Equal([1, 2, 3, 1, 2, 3, 1, 2, 3], model.Sizes);
        Assert.All(model.Positions, p => Assert.Equal(63, p));
    }

    private sealed class CountingModel : IModel
    {
        public List<int> Sizes { get; } = [];

        public List<int> Positions { get; } = [];

        public int VocabularySize => 100;

        public int SlotCount => 4;

        public int SlotCapacity => 64;

        public long KvBytesPerSlot => 1;

        public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts) => throw new NotSupportedException();

        public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
        {
            Sizes.Add(rows.Length);
            foreach (DecodeRow row in rows)
            {
                Positions.Add(row.Position);
            }

            return null!;
        }

        public void Copy(int fromSlot, int toSlot, int length) => throw new NotSupportedException();

        public void Release(int slot)
        {
        }

        public void Dispose()
        {
        }
    }
}
