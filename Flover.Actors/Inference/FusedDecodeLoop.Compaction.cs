using Flover.Gpu.Memory;
using Flover.Gpu.Models;

namespace Flover.Actors.Inference;

/// <summary>The memory shuffle: the plan is made elsewhere (the shuffle actor), the loop applies it at its next step.</summary>
public sealed partial class FusedDecodeLoop
{
    private CompactionPlan? _accepted;

    /// <summary>True when retirements left holes inside the window (shuffle mode): a compaction is worth planning.</summary>
    public bool HasInteriorHoles => _options.MemoryMode == MemoryMode.Shuffle && _slots.LiveCount > 0 && _slots.WindowEnd - _slots.WindowStart + 1 > _slots.LiveCount;

    /// <summary>Changes whenever a slot is taken or freed: a plan made for another version is stale.</summary>
    public long OccupancyVersion { get; private set; }

    /// <summary>The occupancy to plan on while <see cref="HasInteriorHoles"/> and no plan is waiting to be applied.</summary>
    public CompactionRequest? CompactionWanted =>
        HasInteriorHoles && _accepted is null ? new CompactionRequest(OccupancySnapshot(), OccupancyVersion) : null;

    /// <summary>A copy of the slot occupancy (true = live).</summary>
    public bool[] OccupancySnapshot()
    {
        bool[] live = new bool[_slots.SlotCount];
        for (int i = 0; i < live.Length; i++)
        {
            live[i] = _slots.IsLive(i);
        }

        return live;
    }

    /// <summary>
    /// Accepts a plan (the shuffle actor's) to be applied at the next <see cref="PlanStep"/>. A plan
    /// made for an older occupancy (<paramref name="version"/>: a step completed while it was
    /// planned) is still applied there if every move still goes from a live slot to a free one, so
    /// compaction keeps up under a steady stream of arrivals; otherwise it is dropped and planned
    /// again. Refused outside shuffle mode.
    /// </summary>
    public bool OfferCompaction(CompactionPlan plan, long version)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (_options.MemoryMode != MemoryMode.Shuffle)
        {
            return false;
        }

        // The version is not required to match: TryApply validates the moves at the next step.
        _ = version;
        _accepted = plan;
        return true;
    }

    /// <summary>
    /// Applies the accepted plan to the bookkeeping and lists its copies first in the step. Every
    /// move is recorded before any copy runs: if the step fails, the bookkeeping already matches
    /// the allocator, and recovery re-prefills every slot holder, so half-copied KV is harmless.
    /// </summary>
    private CompactionPlan? TakeCompaction(PlannedStep step)
    {
        CompactionPlan? plan = _accepted;
        _accepted = null;
        // TryApply checks each move against the occupancy now: from a live slot, to a free one.
        if (plan is null || plan.IsEmpty || !_slots.TryApply(plan))
        {
            return null;
        }

        OccupancyVersion++;
        var moved = new List<(Sequence Sequence, SlotMove Move)>(plan.Moves.Count);
        foreach (SlotMove move in plan.Moves)
        {
            moved.Add((_bySlot[move.From]!, move));
        }

        foreach ((Sequence _, SlotMove move) in moved)
        {
            _bySlot[move.From] = null;
        }

        foreach ((Sequence sequence, SlotMove move) in moved)
        {
            _bySlot[move.To] = sequence;
            sequence.Slot = move.To;
            step.Involved.Add(sequence);
            // Only the positions written so far carry data.
            step.Copies.Add(new KvCopy(move.From, move.To, Math.Max(1, sequence.KvLength)));
        }

        return plan;
    }
}
