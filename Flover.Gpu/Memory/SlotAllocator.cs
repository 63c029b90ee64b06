namespace Flover.Gpu.Memory;

/// <summary>How the decode loop lays sequences out in KV slots (<c>flover.engine.memory-mode</c>).</summary>
public enum MemoryMode
{
    /// <summary>Any free slot (lowest first); each step computes only the live rows, gathered by slot index.</summary>
    Indexed,

    /// <summary>FasterTransformer-like: a dense window [first live, last live]; new sequences go after the last one; interior holes are computed until they reach an edge.</summary>
    Holes,

    /// <summary>The paper's Flover: as <see cref="Holes"/>, plus a minimal-move compaction whenever retirements leave interior holes.</summary>
    Shuffle,
}

/// <summary>
/// Which KV slot each sequence lives in, under one <see cref="MemoryMode"/>, and which rows a
/// decode step must compute. A pure class owned by the decode loop; it moves no memory itself:
/// <see cref="CompactIfNeeded"/> returns the copies for the loop to apply.
/// </summary>
public sealed class SlotAllocator
{
    private readonly bool[] _live;
    // Slots that lost their sequence (retired, or moved out by a compaction) since the last
    // TakeReleased: the model may hand their memory back once they are still free after a plan.
    private readonly bool[] _vacated;
    private int _liveCount;

    /// <summary>Creates an allocator over <paramref name="slotCount"/> slots.</summary>
    public SlotAllocator(int slotCount, MemoryMode mode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 1);
        _live = new bool[slotCount];
        _vacated = new bool[slotCount];
        Mode = mode;
    }

    /// <summary>The layout policy.</summary>
    public MemoryMode Mode { get; }

    /// <summary>Number of slots.</summary>
    public int SlotCount => _live.Length;

    /// <summary>Slots holding a live sequence.</summary>
    public int LiveCount => _liveCount;

    /// <summary>True when <paramref name="slot"/> holds a live sequence.</summary>
    public bool IsLive(int slot) => _live[slot];

    /// <summary>First slot of the window (holes, shuffle): the lowest live slot, or -1 when none.</summary>
    public int WindowStart => Array.IndexOf(_live, true);

    /// <summary>Last slot of the window: the highest live slot, or -1 when none.</summary>
    public int WindowEnd => Array.LastIndexOf(_live, true);

    /// <summary>Takes a slot for a new sequence; false when the mode has no slot to give.</summary>
    public bool TryAllocate(out int slot)
    {
        slot = Mode switch
        {
            MemoryMode.Indexed => Array.IndexOf(_live, false),
            // The window only grows at its end; interior holes are not reused.
            _ => _liveCount == 0 ? 0 : WindowEnd + 1 < _live.Length ? WindowEnd + 1 : -1,
        };
        if (slot < 0)
        {
            return false;
        }

        _live[slot] = true;
        _liveCount++;
        return true;
    }

    /// <summary>Frees the slot of a retired sequence.</summary>
    /// <exception cref="InvalidOperationException">The slot is not live.</exception>
    public void Release(int slot)
    {
        if (!_live[slot])
        {
            throw new InvalidOperationException($"Slot {slot} is not live.");
        }

        _live[slot] = false;
        _vacated[slot] = true;
        _liveCount--;
    }

    /// <summary>True when a slot was vacated since the last <see cref="TakeReleased"/> and is still free.</summary>
    public bool HasReleases
    {
        get
        {
            for (int slot = 0; slot < _live.Length; slot++)
            {
                if (_vacated[slot] && !_live[slot])
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// The slots vacated since the last call that are still free, ascending, for the model to hand
    /// their memory back; forgets every vacated slot (one taken again already holds a new sequence,
    /// which overwrites what it uses).
    /// </summary>
    public int[] TakeReleased()
    {
        var released = new List<int>();
        for (int slot = 0; slot < _live.Length; slot++)
        {
            if (_vacated[slot] && !_live[slot])
            {
                released.Add(slot);
            }

            _vacated[slot] = false;
        }

        return [.. released];
    }

    /// <summary>
    /// In <see cref="MemoryMode.Shuffle"/>, when the window has interior holes, plans the
    /// minimal-move compaction and records it as done (the caller copies each move's KV before the
    /// next step); otherwise null.
    /// </summary>
    public CompactionPlan? CompactIfNeeded()
    {
        if (Mode != MemoryMode.Shuffle || _liveCount == 0 || WindowEnd - WindowStart + 1 == _liveCount)
        {
            return null;
        }

        CompactionPlan plan = CompactionPlanner.Plan(_live);
        foreach (SlotMove move in plan.Moves)
        {
            _live[move.From] = false;
            _vacated[move.From] = true;
            _live[move.To] = true;
        }

        return plan;
    }

    /// <summary>Applies a plan made elsewhere; false (nothing changed) unless every move goes from a live slot to a free one.</summary>
    public bool TryApply(CompactionPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        bool[] after = (bool[])_live.Clone();
        foreach (SlotMove move in plan.Moves)
        {
            if (move.From < 0 || move.To < 0 || move.From >= after.Length || move.To >= after.Length || !after[move.From] || after[move.To])
            {
                return false;
            }

            after[move.From] = false;
            after[move.To] = true;
        }

        after.CopyTo(_live, 0);
        foreach (SlotMove move in plan.Moves)
        {
            _vacated[move.From] = true;
        }

        return true;
    }

    /// <summary>
    /// Fills <paramref name="rows"/> with the slots the next decode step computes, ascending:
    /// the live slots (indexed), or every slot of the window, dead ones included (holes, shuffle).
    /// </summary>
    public void GetComputedSlots(List<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        rows.Clear();
        if (_liveCount == 0)
        {
            return;
        }

        if (Mode == MemoryMode.Indexed)
        {
            for (int i = 0; i < _live.Length; i++)
            {
                if (_live[i])
                {
                    rows.Add(i);
                }
            }

            return;
        }

        for (int i = WindowStart; i <= WindowEnd; i++)
        {
            rows.Add(i);
        }
    }
}
