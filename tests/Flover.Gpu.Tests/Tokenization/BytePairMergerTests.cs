using System.Text;
using Flover.Gpu.Tokenization;

namespace Flover.Gpu.Tests.Tokenization;

public sealed class BytePairMergerTests
{
    private static readonly string[] s_others = ["中", "é", "😀", " ", "1"];

    [Fact]
    public void The_priority_queue_merges_exactly_as_the_reference_loop_on_random_words()
    {
        BytePairMerger merger = Gpt2Tokenizer.Default.Merger;
        var random = new Random(11);
        for (int i = 0; i < 3_000; i++)
        {
            int[] symbols = ByteSymbols(RandomWord(random));
            int[] direct = (int[])symbols.Clone();
            int[] queued = (int[])symbols.Clone();

            int directCount = merger.MergeDirect(direct);
            int queuedCount = merger.MergeWithQueue(queued);

            Assert.Equal(direct[..directCount], queued[..queuedCount]);
        }
    }

    [Fact]
    public void Overlapping_occurrences_merge_left_to_right()
    {
        // "aaa": the pair (a, a) occurs twice, overlapping; the left one wins in both algorithms.
        BytePairMerger merger = Gpt2Tokenizer.Default.Merger;
        int[] direct = ByteSymbols("aaa");
        int[] queued = ByteSymbols("aaa");

        int count = merger.MergeDirect(direct);
        Assert.Equal(direct[..count], queued[..merger.MergeWithQueue(queued)]);
        Assert.Equal("aaa", Gpt2Tokenizer.Default.Decode(direct.AsSpan(0, count)));
        Assert.Equal(Gpt2Tokenizer.Default.Encode("aaa"), direct[..count]);
    }

    [Fact]
    public void A_megabyte_long_word_is_merged_in_reasonable_time_and_round_trips()
    {
        // One pre-token of a million letters: the quadratic loop would take hours.
        string word = string.Concat(Enumerable.Repeat("pneumonoultramicroscopicsilicovolcanoconiosis", 23_000));

        int[] ids = Gpt2Tokenizer.Default.Encode(word);

        Assert.True(ids.Length * 3 <= word.Length, $"{ids.Length} ids for {word.Length} letters: merges did not apply");
        Assert.Equal(word, Gpt2Tokenizer.Default.Decode(ids));
    }

    private static int[] ByteSymbols(string word) => [.. Encoding.UTF8.GetBytes(word).Select(Gpt2Tokenizer.Default.ByteTokenId)];

    private static string RandomWord(Random random)
    {
        const string Letters = "etaoinshrdlucmfwypvbgkqjxz";
        int length = random.Next(BytePairMerger.DirectLoopMaxLength + 1, 400);
        var builder = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            // Skewed towards frequent letters so that many merges apply; sometimes other scripts.
            if (random.Next(20) == 0)
            {
                builder.Append(s_others[random.Next(s_others.Length)]);
            }
            else
            {
                builder.Append(Letters[(int)(Letters.Length * Math.Pow(random.NextDouble(), 2))]);
            }
        }

        return builder.ToString();
    }
}
