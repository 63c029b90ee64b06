using Flover.Gpu.Tokenization;

namespace Flover.Gpu.Tests.Tokenization;

public sealed class GoldenIdsTests
{
    public static TheoryData<int> EntryIndexes()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < GoldenCorpus.Entries.Count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Fact]
    public void The_golden_corpus_is_large_and_varied()
    {
        Assert.True(GoldenCorpus.Entries.Count >= 190, $"only {GoldenCorpus.Entries.Count} entries");
        Assert.Contains(GoldenCorpus.Entries, e => e.Text.Length == 0);
        Assert.Contains(GoldenCorpus.Entries, e => e.Text.Contains("<|endoftext|>", StringComparison.Ordinal));
        Assert.Contains(GoldenCorpus.Entries, e => e.Text != e.Decoded);
    }

    [Theory]
    [MemberData(nameof(EntryIndexes))]
    public void Encode_agrees_id_for_id_with_OpenAIs_encoder(int index)
    {
        GoldenEntry entry = GoldenCorpus.Entries[index];

        int[] ids = Gpt2Tokenizer.Default.Encode(entry.Text);

        Assert.Equal(entry.Ids, ids);
    }

    [Theory]
    [MemberData(nameof(EntryIndexes))]
    public void Decode_of_the_golden_ids_gives_the_text_back(int index)
    {
        GoldenEntry entry = GoldenCorpus.Entries[index];

        Assert.Equal(entry.Decoded, Gpt2Tokenizer.Default.Decode(entry.Ids));
    }

    [Fact]
    public void Encode_agrees_id_for_id_with_OpenAIs_encoder_on_a_thousand_random_strings()
    {
        IReadOnlyList<GoldenEntry> entries = GoldenCorpus.RandomEntries;
        Assert.Equal(1000, entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            int[] ids = Gpt2Tokenizer.Default.Encode(entries[i].Text);
            Assert.True(entries[i].Ids.AsSpan().SequenceEqual(ids), $"random entry {i}: expected [{string.Join(",", entries[i].Ids)}], got [{string.Join(",", ids)}]");
            Assert.Equal(entries[i].Decoded, Gpt2Tokenizer.Default.Decode(ids));
        }
    }

    [Fact]
    public void A_fresh_tokenizer_agrees_on_every_entry_both_cold_and_from_its_warm_cache()
    {
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.LoadEmbedded();
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (GoldenEntry entry in GoldenCorpus.Entries)
            {
                Assert.Equal(entry.Ids, tokenizer.Encode(entry.Text));
            }
        }

        Assert.True(tokenizer.CachedWordCount > 100, $"only {tokenizer.CachedWordCount} words cached");
    }

    [Fact]
    public void Known_ids_from_the_tokenizer_README_hold()
    {
        Assert.Equal([15496, 995], Gpt2Tokenizer.Default.Encode("Hello world"));
        Assert.Equal([18435, 995], Gpt2Tokenizer.Default.Encode(" Hello world"));
        Assert.Equal(50256, Gpt2Tokenizer.Default.EndOfTextId);
        Assert.Equal(50257, Gpt2Tokenizer.Default.VocabularySize);
    }
}
