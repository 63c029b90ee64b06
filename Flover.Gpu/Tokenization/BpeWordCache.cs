using System.Collections.Concurrent;

namespace Flover.Gpu.Tokenization;

/// <summary>
/// A thread-safe, bounded cache from a pre-token (as text) to its BPE ids. Natural text repeats
/// its words, so most pieces skip UTF-8 encoding and merging entirely.
/// </summary>
/// <remarks>
/// Lookups take a <see cref="ReadOnlySpan{T}"/> of the input, so a hit allocates nothing. The
/// bound is enforced by emptying the cache when it is full: a long-running server sees text
/// whose vocabulary drifts, and emptying (rather than refusing new words) lets the cache follow
/// it at the cost of a short burst of misses. The count is kept with <see cref="Interlocked"/>
/// because <see cref="ConcurrentDictionary{TKey,TValue}.Count"/> takes every lock; it may
/// briefly disagree with the dictionary under races, which only moves when the next clear happens.
/// </remarks>
internal sealed class BpeWordCache
{
    /// <summary>Pieces longer than this are not cached (long pieces rarely repeat).</summary>
    public const int MaxPieceLength = 64;

    private readonly ConcurrentDictionary<string, int[]> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _spanLookup;
    private readonly int _capacity;
    private int _count;

    /// <summary>Creates a cache that holds at most <paramref name="capacity"/> words.</summary>
    public BpeWordCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
        _spanLookup = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The number of cached words (approximate while other threads add).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Looks <paramref name="piece"/> up without allocating.</summary>
    public bool TryGet(ReadOnlySpan<char> piece, out int[] ids) => _spanLookup.TryGetValue(piece, out ids!);

    /// <summary>Caches the ids of <paramref name="piece"/>, emptying the cache first when it is full.</summary>
    public void Add(ReadOnlySpan<char> piece, int[] ids)
    {
        if (piece.Length > MaxPieceLength)
        {
            return;
        }

        if (Volatile.Read(ref _count) >= _capacity)
        {
            // Several threads may clear at once; each clear leaves a valid, empty cache.
            _entries.Clear();
            Volatile.Write(ref _count, 0);
        }

        if (_spanLookup.TryAdd(piece, ids))
        {
            Interlocked.Increment(ref _count);
        }
    }
}
