using Flover.Gpu.Memory;

namespace Flover.Gpu.Tests.Memory;

public sealed class SlotReleaseTests
{
    [Fact]
    public void A_retired_sequence_s_slot_is_released_once_when_it_is_still_free()
    {
        var slots = Filled(MemoryMode.Indexed, 3);
        Assert.False(slots.HasReleases);

        slots.Release(2);
        slots.Release(0);

        Assert.True(slots.HasReleases);
        Assert.Equal([0, 2], slots.TakeReleased());
        Assert.False(slots.HasReleases);
        Assert.Empty(slots.TakeReleased());
    }

    [Fact]
    public void A_slot_taken_again_before_the_releases_are_taken_is_not_released()
    {
        var slots = Filled(MemoryMode.Indexed, 2);
        slots.Release(0);
        slots.Release(1);

        Assert.True(slots.TryAllocate(out int reused));

        Assert.Equal(0, reused);
        Assert.Equal([1], slots.TakeReleased());
        slots.Release(0);
        Assert.Equal([0], slots.TakeReleased());
    }

    [Fact]
    public void A_compaction_releases_the_slots_it_moved_out_of_never_the_ones_it_moved_into()
    {
        var slots = Filled(MemoryMode.Shuffle, 4);
        slots.Release(1);
        Assert.Equal([1], slots.TakeReleased());

        CompactionPlan plan = slots.CompactIfNeeded()!;

        Assert.Equal([new SlotMove(3, 1)], plan.Moves);
        Assert.Equal([3], slots.TakeReleased());
    }

    [Fact]
    public void A_plan_applied_from_elsewhere_releases_its_sources_and_a_refused_one_releases_nothing()
    {
        var slots = Filled(MemoryMode.Shuffle, 3);
        slots.Release(0);
        Assert.Equal([0], slots.TakeReleased());

        Assert.False(slots.TryApply(new CompactionPlan(0, 2, [new SlotMove(1, 2)])));
        Assert.False(slots.HasReleases);
        Assert.True(slots.TryApply(new CompactionPlan(0, 2, [new SlotMove(2, 0)])));
        Assert.Equal([2], slots.TakeReleased());
    }

    private static SlotAllocator Filled(MemoryMode mode, int count)
    {
        var slots = new SlotAllocator(8, mode);
        for (int i = 0; i < count; i++)
        {
            Assert.True(slots.TryAllocate(out _));
        }

        return slots;
    }
}
