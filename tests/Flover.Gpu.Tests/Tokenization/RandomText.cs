using System.Text;

namespace Flover.Gpu.Tests.Tokenization;

/// <summary>
/// Random strings weighted towards what GPT-2's pattern cares about: spaces of every kind,
/// apostrophes and contraction letters, letters, digits and symbols from many scripts, combining
/// marks, emoji and other astral code points, and (when asked) lone surrogates.
/// </summary>
internal static class RandomText
{
    private static readonly string[] s_fragments =
    [
        " ", " ", " ", "  ", "\t", "\n", "\r\n", "\v", "\f", "\u00a0", "\u3000", "\u2028", "\u2029", "\ufeff", "\u0085", "\u200b", "\u2009",
        "'", "'", "s", "t", "re", "ve", "m", "ll", "d", "S", "L",
        "a", "Z", "é", "ß", "Ω", "ж", "中", "ア", "한", "ع", "ש", "न", "्", "\u0301", "ǅ",
        "0", "7", "²", "½", "Ⅻ", "٣", "１",
        "!", ".", ",", "-", "_", "<", "|", ">", "\"", "$", "€", "—", "…", "\u0000", "\u001b",
        "😀", "👍🏽", "👨‍👩‍👧", "🇯🇵", "𝐀", "𝟘", "𐌰", "𠀀", "𝄞", "\U000e0067",
    ];

    /// <summary>A random string of up to <paramref name="maxFragments"/> fragments.</summary>
    public static string Next(Random random, int maxFragments, bool loneSurrogates = false)
    {
        var builder = new StringBuilder();
        int count = random.Next(maxFragments + 1);
        for (int i = 0; i < count; i++)
        {
            switch (random.Next(10))
            {
                case 0:
                    AppendRandomCodePoint(random, builder, loneSurrogates);
                    break;
                case 1:
                    builder.Append("word"[..random.Next(1, 5)]);
                    break;
                default:
                    builder.Append(s_fragments[random.Next(s_fragments.Length)]);
                    break;
            }
        }

        return builder.ToString();
    }

    private static void AppendRandomCodePoint(Random random, StringBuilder builder, bool loneSurrogates)
    {
        if (loneSurrogates && random.Next(4) == 0)
        {
            builder.Append((char)random.Next(0xD800, 0xE000));
            return;
        }

        int value = random.Next(3) == 0 ? random.Next(0x10000, 0x110000) : random.Next(0, 0x10000);
        if (value is >= 0xD800 and < 0xE000)
        {
            value = 'x';
        }

        builder.Append(new Rune(value).ToString());
    }
}
