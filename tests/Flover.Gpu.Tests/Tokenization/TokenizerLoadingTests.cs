using Flover.Gpu.Tokenization;

namespace Flover.Gpu.Tests.Tokenization;

public sealed class TokenizerLoadingTests : IDisposable
{
    private readonly TokenizerFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_folder_with_vocab_and_merges_loads_GPT2()
    {
        _folder.WriteGpt2Files();

        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.FromFolder(_folder.Path);

        AssertAgreesWithGolden(tokenizer);
        Assert.Equal(_folder.Path, tokenizer.Source);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_folder_with_only_tokenizer_json_loads_GPT2_with_either_merge_format(bool mergesAsPairs)
    {
        _folder.WriteGpt2TokenizerJson(mergesAsPairs);

        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.FromFolder(_folder.Path);

        AssertAgreesWithGolden(tokenizer);
        Assert.Equal(50256, tokenizer.EndOfTextId);
    }

    [Fact]
    public void Special_tokens_added_in_tokenizer_json_enter_only_when_allowed()
    {
        _folder.WriteGpt2TokenizerJson(mergesAsPairs: false);
        string json = File.ReadAllText(_folder.File("tokenizer.json")).Replace(
            "\"added_tokens\":[", "\"added_tokens\":[{\"id\":50257,\"content\":\"<|im_start|>\",\"special\":true},", StringComparison.Ordinal);
        _folder.Write("tokenizer.json", json);

        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.FromTokenizerJson(_folder.File("tokenizer.json"));

        Assert.Equal(50258, tokenizer.VocabularySize);
        Assert.Equal([50257, 31373], tokenizer.Encode("<|im_start|>hello", allowSpecialTokens: true));
        Assert.DoesNotContain(50257, tokenizer.Encode("<|im_start|>hello"));
        Assert.Equal("<|im_start|>hello", tokenizer.Decode([50257, 31373]));
    }

    [Fact]
    public void A_merge_that_makes_a_cheaper_pair_is_finished_everywhere_first_as_in_the_reference_loop()
    {
        // Rank 0 ("ab" a) comes before rank 1 (a b): the loop merges every (a b) of "abab" first,
        // giving "ab ab", where (ab, a) no longer occurs. Merging greedily would give "aba b".
        _folder.WriteTiny(["ab", "aba"], ["ab a", "a b"]);
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.FromFolder(_folder.Path);
        int ab = 256;

        Assert.Equal([ab, ab], tokenizer.Encode("abab"));
        int[] symbols = [.. "abab".Select(c => tokenizer.ByteTokenId((byte)c))];
        Assert.Equal([ab, ab], symbols[..tokenizer.Merger.MergeWithQueue(symbols)]);
    }

    [Fact]
    public void Merges_with_CRLF_line_endings_and_a_byte_order_mark_load_the_same_rules()
    {
        _folder.WriteTiny(["ab", "abc"], ["a b", "ab c"]);
        string merges = File.ReadAllText(_folder.File("merges.txt"));
        _folder.Write("merges.txt", "\uFEFF" + merges.Replace("\n", "\r\n", StringComparison.Ordinal));

        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.FromFolder(_folder.Path);

        Assert.Equal([257, 256], tokenizer.Encode("abcab"));
    }

    private static void AssertAgreesWithGolden(Gpt2Tokenizer tokenizer)
    {
        foreach (GoldenEntry entry in GoldenCorpus.Entries)
        {
            Assert.Equal(entry.Ids, tokenizer.Encode(entry.Text));
            Assert.Equal(entry.Decoded, tokenizer.Decode(entry.Ids));
        }
    }
}
