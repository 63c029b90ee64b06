using Flover.Gpu.Memory;

namespace Flover.Gpu.Tests.Memory;

public sealed class SlotAllocatorTests
{
    [Fact]
    public void Indexed_reuses_the_lowest_free_slot_and_computes_only_live_rows()
    {
        var slots = Filled(MemoryMode.Indexed, 4);
        slots.Release(1);

        Assert.True(slots.TryAllocate(out int reused));
        Assert.Equal(1, reused);
        slots.Release(2);
        Assert.Equal([0, 1, 3], Computed(slots));
        Assert.Null(slots.CompactIfNeeded());
    }

    [Fact]
    public void Holes_never_reuse_interior_holes_and_compute_the_whole_window()
    {
        var slots = Filled(MemoryMode.Holes, 3, capacity: 4);
        slots.Release(1);

        Assert.Equal([0, 1, 2], Computed(slots));
        Assert.True(slots.TryAllocate(out int next));
        Assert.Equal(3, next);
        Assert.False(slots.TryAllocate(out _));
        Assert.Null(slots.CompactIfNeeded());
    }

    [Fact]
    public void Holes_window_shrinks_when_an_edge_sequence_retires_and_restarts_at_zero_when_empty()
    {
        var slots = Filled(MemoryMode.Holes, 3);
        slots.Release(0);
        Assert.Equal([1, 2], Computed(slots));
        slots.Release(1);
        slots.Release(2);

        Assert.True(slots.TryAllocate(out int first));
        Assert.Equal(0, first);
    }

    [Fact]
    public void Shuffle_compacts_interior_holes_with_the_planner_and_then_computes_only_live_rows()
    {
        var slots = Filled(MemoryMode.Shuffle, 5);
        slots.Release(1);
        slots.Release(2);

        CompactionPlan plan = slots.CompactIfNeeded()!;

        Assert.Equal([new SlotMove(0, 2)], plan.Moves);
        Assert.Equal([2, 3, 4], Computed(slots));
        Assert.Null(slots.CompactIfNeeded());
        Assert.True(slots.TryAllocate(out int next));
        Assert.Equal(5, next);
    }

    [Fact]
    public void A_plan_made_elsewhere_is_applied_only_when_every_move_goes_from_live_to_free()
    {
        var slots = Filled(MemoryMode.Shuffle, 3);
        slots.Release(1);

        Assert.False(slots.TryApply(new CompactionPlan(0, 2, [new SlotMove(1, 0)])));
        Assert.False(slots.TryApply(new CompactionPlan(0, 2, [new SlotMove(2, 0)])));
        Assert.True(slots.TryApply(new CompactionPlan(0, 2, [new SlotMove(2, 1)])));
        Assert.Equal([0, 1], Computed(slots));
    }

    [Fact]
    public void Releasing_a_free_slot_is_refused()
    {
        var slots = new SlotAllocator(2, MemoryMode.Indexed);

        Assert.Equal("Slot 1 is not live.", Assert.Throws<InvalidOperationException>(() => slots.Release(1)).Message);
    }

    private static SlotAllocator Filled(MemoryMode mode, int count, int capacity = 8)
    {
        var slots = new SlotAllocator(capacity, mode);
        for (int i = 0; i < count; i++)
        {
            Assert.True(slots.TryAllocate(out int slot));
            Assert.Equal(i, slot);
        }

        return slots;
    }

    private static List<int> Computed(SlotAllocator slots)
    {
        var rows = new List<int>();
        slots.GetComputedSlots(rows);
        return rows;
    }
}
