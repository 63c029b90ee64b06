using Flover.Gpu.Tokenization;

namespace Flover.Gpu.Tests.Tokenization;

public sealed class IncrementalDecoderTests
{
    [Fact]
    public void An_emoji_split_across_tokens_is_held_back_until_complete()
    {
        int[] ids = Gpt2Tokenizer.Default.Encode("Hi 😀!");
        IncrementalDecoder decoder = Gpt2Tokenizer.Default.CreateIncrementalDecoder();

        string[] pieces = [.. ids.Select(decoder.Append)];

        // "Hi", " " + first 3 bytes of the emoji (held), the last byte (completes it), "!".
        Assert.Equal(["Hi", " ", "😀", "!"], pieces);
        Assert.Equal(string.Empty, decoder.Flush());
    }

    [Fact]
    public void A_ZWJ_family_streams_to_the_same_text_as_one_shot_decoding_and_never_emits_half_a_character()
    {
        const string Family = "👨‍👩‍👧‍👦 and 🇯🇵";
        int[] ids = Gpt2Tokenizer.Default.Encode(Family);
        IncrementalDecoder decoder = Gpt2Tokenizer.Default.CreateIncrementalDecoder();

        var streamed = new List<string>();
        foreach (int id in ids)
        {
            streamed.Add(decoder.Append(id));
        }

        streamed.Add(decoder.Flush());
        Assert.Equal(Family, string.Concat(streamed));
        Assert.DoesNotContain(streamed, piece => piece.Contains('\uFFFD', StringComparison.Ordinal));
        Assert.True(ids.Length > streamed.Count(piece => piece.Length > 0), "some tokens must have been held back");
    }

    [Fact]
    public void Flush_turns_an_incomplete_character_into_U_FFFD_and_resets()
    {
        int[] ids = Gpt2Tokenizer.Default.Encode("😀");
        IncrementalDecoder decoder = Gpt2Tokenizer.Default.CreateIncrementalDecoder();

        Assert.Equal(string.Empty, decoder.Append(ids[0]));
        Assert.Equal("\uFFFD", decoder.Flush());
        Assert.Equal("Hello", decoder.Append(15496));
    }

    [Fact]
    public void Streaming_random_texts_token_by_token_equals_one_shot_decoding()
    {
        var random = new Random(5);
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.Default;
        for (int i = 0; i < 2_000; i++)
        {
            int[] ids = tokenizer.Encode(RandomText.Next(random, 30));
            IncrementalDecoder decoder = tokenizer.CreateIncrementalDecoder();

            string streamed = string.Concat(ids.Select(decoder.Append)) + decoder.Flush();

            Assert.Equal(tokenizer.Decode(ids), streamed);
        }
    }

    [Fact]
    public void Streaming_random_ids_including_invalid_UTF8_equals_one_shot_decoding()
    {
        // Arbitrary ids make arbitrary byte sequences: invalid ones must become U+FFFD exactly as
        // in one-shot decoding, whichever token boundary they straddle.
        var random = new Random(6);
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.Default;
        for (int i = 0; i < 2_000; i++)
        {
            int[] ids = [.. Enumerable.Range(0, random.Next(1, 12)).Select(_ => random.Next(random.Next(2) == 0 ? 256 : 50257))];
            IncrementalDecoder decoder = tokenizer.CreateIncrementalDecoder();

            string streamed = string.Concat(ids.Select(decoder.Append)) + decoder.Flush();

            Assert.Equal(tokenizer.Decode(ids), streamed);
        }
    }

    [Fact]
    public void Appending_several_ids_at_once_equals_appending_them_one_by_one()
    {
        int[] ids = Gpt2Tokenizer.Default.Encode("a 😀 b 👍🏽 c");
        IncrementalDecoder decoder = Gpt2Tokenizer.Default.CreateIncrementalDecoder();

        string first = decoder.Append(ids.AsSpan(0, 3));
        string rest = decoder.Append(ids.AsSpan(3));

        Assert.Equal("a 😀 b 👍🏽 c", first + rest + decoder.Flush());
    }

    [Fact]
    public void Appending_an_unknown_id_names_it()
    {
        IncrementalDecoder decoder = Gpt2Tokenizer.Default.CreateIncrementalDecoder();

        var error = Assert.Throws<FloverException>(() => decoder.Append(99_999));

        Assert.Contains("99999", error.Message, StringComparison.Ordinal);
    }
}
