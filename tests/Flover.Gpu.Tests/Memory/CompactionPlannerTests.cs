using Flover.Gpu.Memory;

namespace Flover.Gpu.Tests.Memory;

public sealed class CompactionPlannerTests
{
    [Fact]
    public void Paper_example_a_keeps_the_leftmost_best_window_and_moves_C_and_D_into_its_holes()
    {
        CompactionPlan plan = CompactionPlanner.Plan("A.B..CD.");

        Assert.Equal(0, plan.WindowStart);
        Assert.Equal(4, plan.LiveCount);
        Assert.Equal([new SlotMove(5, 1), new SlotMove(6, 3)], plan.Moves);
    }

    [Fact]
    public void Paper_example_b_slides_the_window_right_and_moves_only_A()
    {
        CompactionPlan plan = CompactionPlanner.Plan("A...BCDE");

        Assert.Equal(3, plan.WindowStart);
        Assert.Equal([new SlotMove(0, 3)], plan.Moves);
    }

    [Theory]
    [InlineData("AB..")]
    [InlineData("..AB")]
    [InlineData(".ABC.")]
    [InlineData("....")]
    [InlineData("")]
    public void A_dense_or_empty_occupancy_needs_no_moves(string occupancy)
    {
        Assert.True(CompactionPlanner.Plan(occupancy).IsEmpty);
    }

    [Fact]
    public void Bytes_moved_is_one_slot_per_move()
    {
        Assert.Equal(2 * 1024L, CompactionPlanner.Plan("A.B..CD.").BytesMoved(1024));
    }

    [Fact]
    public void Every_occupancy_of_up_to_twelve_slots_is_compacted_with_the_fewest_moves_into_a_dense_window()
    {
        for (int slots = 0; slots <= 12; slots++)
        {
            for (int mask = 0; mask < 1 << slots; mask++)
            {
                bool[] live = Enumerable.Range(0, slots).Select(i => (mask >> i & 1) == 1).ToArray();
                AssertMinimalAndDense(live);
            }
        }
    }

    [Fact]
    public void Random_occupancies_of_up_to_256_slots_are_compacted_with_the_fewest_moves_into_a_dense_window()
    {
        var random = new Random(20231218);
        for (int trial = 0; trial < 2000; trial++)
        {
            int slots = random.Next(1, 257);
            double density = random.NextDouble();
            bool[] live = Enumerable.Range(0, slots).Select(_ => random.NextDouble() < density).ToArray();
            AssertMinimalAndDense(live);
        }
    }

    private static void AssertMinimalAndDense(bool[] live)
    {
        CompactionPlan plan = CompactionPlanner.Plan(live);
        int k = live.Count(x => x);
        int bestInside = 0;
        for (int start = 0; start + k <= live.Length; start++)
        {
            bestInside = Math.Max(bestInside, live.Skip(start).Take(k).Count(x => x));
        }

        Assert.Equal(k, plan.LiveCount);
        Assert.Equal(k - bestInside, plan.Moves.Count);

        bool[] after = (bool[])live.Clone();
        var moved = new HashSet<int>();
        foreach (SlotMove move in plan.Moves)
        {
            Assert.True(live[move.From], $"move from free slot {move.From}");
            Assert.False(after[move.To], $"destination {move.To} is not free");
            Assert.InRange(move.To, plan.WindowStart, plan.WindowStart + k - 1);
            Assert.True(moved.Add(move.From), $"slot {move.From} moved twice");
            after[move.From] = false;
            after[move.To] = true;
        }

        for (int i = 0; i < live.Length; i++)
        {
            Assert.Equal(i >= plan.WindowStart && i < plan.WindowStart + k, after[i]);
        }
    }
}
