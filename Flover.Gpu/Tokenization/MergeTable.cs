using System.Numerics;
using System.Runtime.CompilerServices;

namespace Flover.Gpu.Tokenization;

/// <summary>
/// An open-addressing hash table from a pair of token ids to its <see cref="MergeRule"/>: the
/// innermost lookup of BPE, probed once per adjacent pair per merge round.
/// </summary>
/// <remarks>
/// A generic <see cref="Dictionary{TKey,TValue}"/> over our own struct is JIT-compiled at tier 0
/// first and promoted only after the runtime's call-counting delay, which made a one-shot
/// <c>flover tokenize</c> of a megabyte three times slower than steady state. This table is
/// plain arrays, half full, with linear probing and a Fibonacci hash of the packed pair.
/// </remarks>
internal sealed class MergeTable
{
    /// <summary>Marks an empty slot; packed pairs of non-negative ids are never negative.</summary>
    private const long Empty = -1;

    private readonly long[] _keys;
    private readonly MergeRule[] _values;
    private readonly int _mask;
    private readonly int _shift;

    /// <summary>Builds the table from <paramref name="rules"/>, keyed by <see cref="Key"/>.</summary>
    public MergeTable(IReadOnlyDictionary<long, MergeRule> rules)
    {
        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, rules.Count * 2));
        _keys = new long[capacity];
        _values = new MergeRule[capacity];
        _mask = capacity - 1;
        _shift = 64 - BitOperations.Log2((uint)capacity);
        Array.Fill(_keys, Empty);
        foreach ((long key, MergeRule rule) in rules)
        {
            int slot = Slot(key);
            while (_keys[slot] != Empty)
            {
                slot = (slot + 1) & _mask;
            }

            _keys[slot] = key;
            _values[slot] = rule;
        }

        Count = rules.Count;
    }

    /// <summary>The number of rules.</summary>
    public int Count { get; }

    /// <summary>Packs a pair of (non-negative) ids into a key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>Looks up the rule that merges <paramref name="left"/> with <paramref name="right"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(int left, int right, out MergeRule rule)
    {
        long key = Key(left, right);
        for (int slot = Slot(key); ; slot = (slot + 1) & _mask)
        {
            long found = _keys[slot];
            if (found == key)
            {
                rule = _values[slot];
                return true;
            }

            if (found == Empty)
            {
                rule = default;
                return false;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(long key) => (int)((ulong)key * 0x9E3779B97F4A7C15UL >> _shift);
}
