using System.Runtime.CompilerServices;

namespace Flover.Gpu.Tokenization;

/// <summary>
/// Applies BPE merges to a word given as token ids, exactly as OpenAI's <c>bpe()</c> does:
/// repeatedly take the adjacent pair with the lowest merge rank and merge every occurrence of
/// it, left to right without overlap, until no adjacent pair has a rank.
/// </summary>
/// <remarks>
/// Short words use that loop directly (quadratic, but with tiny constants). Long words (a
/// megabyte of letters is one pre-token) use a linked list and a priority queue keyed by
/// (rank, position), which is O(n log n) and gives the same result: each rank is one pair, all
/// of its entries are drained before any is applied (so a cheaper pair created meanwhile waits
/// for the next round, as in the reference loop), and they are applied in position order.
/// </remarks>
internal sealed class BytePairMerger
{
    /// <summary>Words up to this many symbols use the direct loop; longer ones the priority queue.</summary>
    internal const int DirectLoopMaxLength = 48;

    /// <summary>(left id, right id) to (rank, merged id).</summary>
    private readonly MergeTable _rules;

    /// <summary>Creates a merger from rules already validated against the vocabulary.</summary>
    public BytePairMerger(MergeTable rules) => _rules = rules;

    /// <summary>The number of merge rules.</summary>
    public int Count => _rules.Count;

    /// <summary>Merges <paramref name="symbols"/> in place and returns how many remain.</summary>
    public int Merge(Span<int> symbols) =>
        symbols.Length <= DirectLoopMaxLength ? MergeDirect(symbols) : MergeWithQueue(symbols);

    /// <summary>The reference loop: scan for the cheapest pair, merge all its occurrences, repeat.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal int MergeDirect(Span<int> symbols)
    {
        int count = symbols.Length;
        while (count > 1)
        {
            MergeRule best = new(int.MaxValue, -1);
            int left = 0;
            int right = 0;
            for (int i = 0; i + 1 < count; i++)
            {
                if (_rules.TryGet(symbols[i], symbols[i + 1], out MergeRule rule) && rule.Rank < best.Rank)
                {
                    best = rule;
                    left = symbols[i];
                    right = symbols[i + 1];
                }
            }

            if (best.Result < 0)
            {
                break;
            }

            int write = 0;
            for (int read = 0; read < count; write++)
            {
                if (read + 1 < count && symbols[read] == left && symbols[read + 1] == right)
                {
                    symbols[write] = best.Result;
                    read += 2;
                }
                else
                {
                    symbols[write] = symbols[read++];
                }
            }

            count = write;
        }

        return count;
    }

    /// <summary>The same merges for long words, in O(n log n).</summary>
    internal int MergeWithQueue(Span<int> symbols)
    {
        int n = symbols.Length;
        int[] next = new int[n];
        int[] previous = new int[n];
        int[] ids = symbols.ToArray();
        var queue = new PriorityQueue<int, long>(n);
        for (int i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            previous[i] = i - 1;
            Enqueue(queue, ids, i, next[i]);
        }

        var round = new List<int>();
        while (queue.TryPeek(out _, out long firstPriority))
        {
            int rank = (int)(firstPriority >> 32);
            round.Clear();
            while (queue.TryPeek(out int position, out long priority) && (int)(priority >> 32) == rank)
            {
                queue.Dequeue();
                round.Add(position);
            }

            // Positions come out in increasing order, which is left to right in the word.
            foreach (int position in round)
            {
                int right = next[position];
                // Stale entries (a side already merged away or changed) no longer hold this rank's pair.
                if (ids[position] < 0 || right < 0 || !_rules.TryGet(ids[position], ids[right], out MergeRule rule) || rule.Rank != rank)
                {
                    continue;
                }

                ids[position] = rule.Result;
                ids[right] = -1;
                next[position] = next[right];
                if (next[right] >= 0)
                {
                    previous[next[right]] = position;
                }

                if (previous[position] >= 0)
                {
                    Enqueue(queue, ids, previous[position], position);
                }

                Enqueue(queue, ids, position, next[position]);
            }
        }

        int count = 0;
        for (int i = 0; i >= 0; i = next[i])
        {
            symbols[count++] = ids[i];
        }

        return count;
    }

    private void Enqueue(PriorityQueue<int, long> queue, int[] ids, int position, int right)
    {
        if (right >= 0 && _rules.TryGet(ids[position], ids[right], out MergeRule rule))
        {
            queue.Enqueue(position, ((long)rule.Rank << 32) | (uint)position);
        }
    }
}

/// <summary>One merge rule: its rank (lower merges first) and the id of the merged token.</summary>
internal readonly record struct MergeRule(int Rank, int Result);
