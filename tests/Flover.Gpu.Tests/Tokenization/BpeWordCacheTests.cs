using Flover.Gpu.Tokenization;

namespace Flover.Gpu.Tests.Tokenization;

public sealed class BpeWordCacheTests
{
    [Fact]
    public void The_cache_never_holds_more_than_its_capacity_and_keeps_the_newest_word()
    {
        var cache = new BpeWordCache(capacity: 4);

        for (int i = 0; i < 100; i++)
        {
            cache.Add($"word{i}", [i]);
            Assert.InRange(cache.Count, 1, 4);
        }

        Assert.True(cache.TryGet("word99", out int[] ids));
        Assert.Equal([99], ids);
    }

    [Fact]
    public void Pieces_longer_than_the_limit_are_not_cached()
    {
        var cache = new BpeWordCache(capacity: 4);
        string longPiece = new('x', BpeWordCache.MaxPieceLength + 1);

        cache.Add(longPiece, [1]);

        Assert.False(cache.TryGet(longPiece, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void A_span_of_a_larger_string_finds_the_cached_word()
    {
        var cache = new BpeWordCache(capacity: 4);
        cache.Add(" world", [995]);

        Assert.True(cache.TryGet("Hello world!".AsSpan(5, 6), out int[] ids));
        Assert.Equal([995], ids);
    }

    [Fact]
    public void Concurrent_encoding_on_one_tokenizer_agrees_with_the_golden_ids()
    {
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.LoadEmbedded();
        IReadOnlyList<GoldenEntry> entries = GoldenCorpus.Entries;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();

        // Eight workers encode the corpus in different orders, racing on the shared cache.
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, worker =>
        {
            for (int k = 0; k < entries.Count; k++)
            {
                GoldenEntry entry = entries[(k * (worker + 1)) % entries.Count];
                if (!entry.Ids.AsSpan().SequenceEqual(tokenizer.Encode(entry.Text)))
                {
                    failures.Add(entry.Text);
                }
            }
        });

        Assert.Empty(failures);
    }
}
