using System.Text;
using System.Text.RegularExpressions;
using Flover.Gpu.Tokenization;

namespace Flover.Gpu.Tests.Tokenization;

public sealed class Gpt2PreTokenizerTests
{
    /// <summary>JavaScript's \s, the whitespace OpenAI's JavaScript encoder splits on.</summary>
    private const string JsSpace = @"\t\n\v\f\r\p{Zs}\u2028\u2029\uFEFF";

    /// <summary>GPT-2's pattern, with \s and \S spelled as JavaScript's classes.</summary>
    private static readonly Regex s_reference = new(
        $@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{{L}}+| ?\p{{N}}+| ?[^{JsSpace}\p{{L}}\p{{N}}]+|[{JsSpace}]+(?![^{JsSpace}])|[{JsSpace}]+",
        RegexOptions.CultureInvariant);

    public static TheoryData<string, string[]> Examples() => new()
    {
        { "Hello world", ["Hello", " world"] },
        { "I'm here", ["I", "'m", " here"] },
        { "they'll've", ["they", "'ll", "'ve"] },
        { "IT'S", ["IT", "'", "S"] },
        { "'sfoo", ["'s", "foo"] },
        { "Hello  world", ["Hello", " ", " world"] },
        { "a\t\tb", ["a", "\t", "\t", "b"] },
        { "x   ", ["x", "   "] },
        { "x \n y", ["x", " \n", " y"] },
        { " !!! 123abc", [" !!!", " 123", "abc"] },
        { "\u00a0x", ["\u00a0", "x"] },
        { "a\U0001d400b 𝟘𝟙 😀!", ["a\U0001d400b", " 𝟘𝟙", " 😀!"] },
        { "a\ud800b", ["a", "\ud800", "b"] },
        { "nel\u0085x\ufeffy", ["nel", "\u0085", "x", "\ufeff", "y"] },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void Pieces_are_the_matches_of_GPT2s_pattern(string text, string[] expected)
    {
        Assert.Equal(expected, Split(text));
    }

    [Fact]
    public void The_scanner_matches_the_regex_on_random_BMP_strings()
    {
        var random = new Random(20261122);
        for (int i = 0; i < 20_000; i++)
        {
            string text = RandomBmpText(random);
            Assert.Equal(ReferenceSplit(text), Split(text));
        }
    }

    [Fact]
    public void The_scanner_matches_the_regex_per_code_point_on_strings_with_astral_characters_and_lone_surrogates()
    {
        var random = new Random(7);
        for (int i = 0; i < 20_000; i++)
        {
            string text = RandomText.Next(random, 24, loneSurrogates: true);
            // .NET's regex classifies UTF-16 units, JavaScript's /u regex code points: give the
            // reference one BMP stand-in of the same class per code point, then compare boundaries.
            (string standIn, int[] codePointStarts) = BmpStandIn(text);
            int[] expected = [.. s_reference.Matches(standIn).Select(m => codePointStarts[m.Index])];
            int[] actual = [.. Starts(text)];
            Assert.True(expected.SequenceEqual(actual), $"text {Escape(text)}: expected starts [{string.Join(",", expected)}], got [{string.Join(",", actual)}]");
        }
    }

    [Fact]
    public void Pieces_cover_the_text_exactly()
    {
        var random = new Random(3);
        for (int i = 0; i < 2_000; i++)
        {
            string text = RandomText.Next(random, 40, loneSurrogates: true);
            Assert.Equal(text, string.Concat(Split(text)));
        }
    }

    private static List<string> Split(string text)
    {
        var pieces = new List<string>();
        for (int position = 0; position < text.Length;)
        {
            int length = Gpt2PreTokenizer.PieceLength(text, position);
            Assert.True(length > 0);
            pieces.Add(text.Substring(position, length));
            position += length;
        }

        return pieces;
    }

    private static IEnumerable<int> Starts(string text)
    {
        for (int position = 0; position < text.Length; position += Gpt2PreTokenizer.PieceLength(text, position))
        {
            yield return position;
        }
    }

    private static List<string> ReferenceSplit(string text) => [.. s_reference.Matches(text).Select(m => m.Value)];

    private static (string StandIn, int[] Starts) BmpStandIn(string text)
    {
        var builder = new StringBuilder();
        var starts = new List<int>();
        for (int i = 0; i < text.Length;)
        {
            starts.Add(i);
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out Rune rune, out int width) != System.Buffers.OperationStatus.Done)
            {
                builder.Append('\uFFFD');
                i++;
                continue;
            }

            builder.Append(rune.IsBmp ? (char)rune.Value : Gpt2PreTokenizer.Classify(text, i, out _) switch
            {
                Gpt2PreTokenizer.CharClass.Letter => '\u4E00',
                Gpt2PreTokenizer.CharClass.Number => '\u0660',
                _ => '\uFFFD',
            });
            i += width;
        }

        starts.Add(text.Length);
        return (builder.ToString(), [.. starts]);
    }

    private static string RandomBmpText(Random random)
    {
        string text = RandomText.Next(random, 24);
        var builder = new StringBuilder();
        foreach (Rune rune in text.EnumerateRunes())
        {
            builder.Append(rune.IsBmp ? (char)rune.Value : 'q');
        }

        return builder.ToString();
    }

    private static string Escape(string text) => string.Concat(text.Select(c => c is >= ' ' and < '\u007f' ? c.ToString() : $"\\u{(int)c:x4}"));
}
