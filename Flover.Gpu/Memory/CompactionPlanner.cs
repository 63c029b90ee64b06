namespace Flover.Gpu.Memory;

/// <summary>One KV slot copied to another as part of a compaction.</summary>
/// <param name="From">The live slot outside the window.</param>
/// <param name="To">The free slot inside the window it moves to.</param>
public readonly record struct SlotMove(int From, int To);

/// <summary>
/// Where the live slots end up after compaction: the window
/// [<see cref="WindowStart"/>, <see cref="WindowStart"/> + <see cref="LiveCount"/>) and the moves that fill it.
/// </summary>
/// <param name="WindowStart">First slot of the dense window.</param>
/// <param name="LiveCount">Live slots, which is also the window's length.</param>
/// <param name="Moves">Copies to apply, each slot moved at most once; empty when already dense.</param>
public sealed record CompactionPlan(int WindowStart, int LiveCount, IReadOnlyList<SlotMove> Moves)
{
    /// <summary>True when nothing needs to move.</summary>
    public bool IsEmpty => Moves.Count == 0;

    /// <summary>Bytes copied when one slot holds <paramref name="bytesPerSlot"/> bytes of KV (one copy per move, slot-major layout).</summary>
    public long BytesMoved(long bytesPerSlot) => Moves.Count * bytesPerSlot;
}

/// <summary>
/// The paper's minimal-move memory shuffle (Flover §3.2): with k live slots, choose the length-k
/// window holding the most live slots (leftmost on ties) and move each live slot outside it into
/// a free slot inside it, ascending. Any dense placement is some length-k window and every live
/// slot outside it must move once, so this moves the fewest sequences possible: k minus the
/// largest live count of any length-k window. O(M) time. A pure class: the shuffle actor asks it,
/// the decode loop applies the moves.
/// </summary>
public static class CompactionPlanner
{
    /// <summary>Plans the compaction of the occupancy <paramref name="live"/> (true = slot holds a live sequence).</summary>
    public static CompactionPlan Plan(ReadOnlySpan<bool> live)
    {
        int slots = live.Length;
        int count = 0;
        foreach (bool occupied in live)
        {
            count += occupied ? 1 : 0;
        }

        if (count == 0)
        {
            return new CompactionPlan(0, 0, []);
        }

        int inside = 0;
        for (int i = 0; i < count; i++)
        {
            inside += live[i] ? 1 : 0;
        }

        int bestStart = 0;
        int bestInside = inside;
        for (int end = count; end < slots; end++)
        {
            inside += (live[end] ? 1 : 0) - (live[end - count] ? 1 : 0);
            // Strictly greater: on ties the leftmost window wins, as in the paper's code.
            if (inside > bestInside)
            {
                bestInside = inside;
                bestStart = end - count + 1;
            }
        }

        if (bestInside == count)
        {
            return new CompactionPlan(bestStart, count, []);
        }

        var holes = new Queue<int>(count - bestInside);
        for (int i = bestStart; i < bestStart + count; i++)
        {
            if (!live[i])
            {
                holes.Enqueue(i);
            }
        }

        var moves = new List<SlotMove>(count - bestInside);
        for (int i = 0; i < slots; i++)
        {
            if (live[i] && (i < bestStart || i >= bestStart + count))
            {
                moves.Add(new SlotMove(i, holes.Dequeue()));
            }
        }

        return new CompactionPlan(bestStart, count, moves);
    }

    /// <summary>Plans from an occupancy string such as <c>"A..BC"</c> ('.' is free), for tests and logs.</summary>
    public static CompactionPlan Plan(string occupancy)
    {
        ArgumentNullException.ThrowIfNull(occupancy);
        bool[] live = occupancy.Select(c => c != '.').ToArray();
        return Plan(live);
    }
}
