using System.Text;
using Flover.Gpu.Tokenization;

namespace Flover.Gpu.Tests.Tokenization;

public sealed class RoundTripTests
{
    [Fact]
    public void Random_well_formed_strings_round_trip_exactly()
    {
        var random = new Random(42);
        for (int i = 0; i < 5_000; i++)
        {
            string text = RandomText.Next(random, 60);

            Assert.Equal(text, Gpt2Tokenizer.Default.Decode(Gpt2Tokenizer.Default.Encode(text)));
        }
    }

    [Fact]
    public void Random_code_points_from_every_plane_round_trip_exactly()
    {
        var random = new Random(43);
        var builder = new StringBuilder();
        for (int i = 0; i < 2_000; i++)
        {
            builder.Clear();
            for (int j = random.Next(1, 30); j > 0; j--)
            {
                int value = random.Next(0, 0x110000);
                builder.Append(Rune.IsValid(value) ? new Rune(value).ToString() : " ");
            }

            string text = builder.ToString();
            Assert.Equal(text, Gpt2Tokenizer.Default.Decode(Gpt2Tokenizer.Default.Encode(text)));
        }
    }

    [Fact]
    public void A_lone_surrogate_is_encoded_as_the_replacement_character()
    {
        Gpt2Tokenizer tokenizer = Gpt2Tokenizer.Default;

        Assert.Equal(tokenizer.Encode("a\uFFFDb"), tokenizer.Encode("a\uD800b"));
        Assert.Equal("a\uFFFDb", tokenizer.Decode(tokenizer.Encode("a\uD800b")));
    }

    [Fact]
    public void Strings_with_lone_surrogates_round_trip_with_each_replaced_by_U_FFFD()
    {
        var random = new Random(44);
        for (int i = 0; i < 2_000; i++)
        {
            string text = RandomText.Next(random, 40, loneSurrogates: true);
            // Encoding.UTF8 turns exactly the lone surrogates into U+FFFD.
            string expected = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));

            Assert.Equal(expected, Gpt2Tokenizer.Default.Decode(Gpt2Tokenizer.Default.Encode(text)));
        }
    }

    [Fact]
    public void Decoding_a_token_that_ends_inside_a_character_gives_U_FFFD()
    {
        // "😀" is [47249, 222] in GPT-2: the first token is three of its four bytes.
        int[] ids = Gpt2Tokenizer.Default.Encode("😀");
        Assert.Equal(2, ids.Length);

        Assert.Equal("\uFFFD", Gpt2Tokenizer.Default.Decode(ids.AsSpan(0, 1)));
    }

    [Fact]
    public void Decoding_an_id_outside_the_vocabulary_names_the_id()
    {
        var error = Assert.Throws<FloverException>(() => Gpt2Tokenizer.Default.Decode([15496, 50257]));

        Assert.Contains("Token id 50257", error.Message, StringComparison.Ordinal);
        Assert.Contains("0 to 50256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decoding_a_negative_id_names_the_id()
    {
        var error = Assert.Throws<FloverException>(() => Gpt2Tokenizer.Default.Decode([-1]));

        Assert.Contains("Token id -1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_appends_to_a_list_and_accepts_spans()
    {
        var ids = new List<int> { 7 };

        Gpt2Tokenizer.Default.Encode("xHello world".AsSpan(1), ids);

        Assert.Equal([7, 15496, 995], ids);
    }
}
