using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Flover.Gpu.Tokenization;

/// <summary>
/// Splits text into the pieces GPT-2's pattern matches, one piece at a time, without a regex:
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>.
/// </summary>
/// <remarks>
/// <para>The pattern is applied as OpenAI's JavaScript encoder (<c>gpt-3-encoder</c>) applies it, with
/// the <c>u</c> flag: classes are decided per code point, so letters outside the BMP (a surrogate
/// pair) are <c>\p{L}</c>, and a lone surrogate is neither letter, digit nor space. <c>\s</c> is
/// JavaScript's: tab, line feed, vertical tab, form feed, carriage return, U+FEFF, U+2028, U+2029
/// and every space separator (Zs). This differs from Python's and Rust's Unicode <c>\s</c> in
/// two code points only: U+FEFF counts as space here and U+0085 does not.</para>
/// <para>The scanner is property-tested against <see cref="System.Text.RegularExpressions.Regex"/>
/// running the same pattern. It exists because .NET's regex classifies UTF-16 units, not code
/// points (an astral letter would not be <c>\p{L}</c>), and because it allocates nothing.</para>
/// </remarks>
internal static class Gpt2PreTokenizer
{
    /// <summary>The classes of the pattern's character sets.</summary>
    internal enum CharClass : byte
    {
        /// <summary><c>[^\s\p{L}\p{N}]</c>: punctuation, symbols, controls, marks, lone surrogates.</summary>
        Other,

        /// <summary><c>\p{L}</c>.</summary>
        Letter,

        /// <summary><c>\p{N}</c>.</summary>
        Number,

        /// <summary>JavaScript's <c>\s</c>.</summary>
        Space,
    }

    /// <summary>The class of each ASCII character, so the common case needs no Unicode lookup.</summary>
    private static readonly CharClass[] s_asciiClasses = BuildAsciiClasses();

    /// <summary>
    /// Returns the length of the piece that starts at <paramref name="start"/> (which must be
    /// inside <paramref name="text"/>): the same match the regex finds there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int PieceLength(ReadOnlySpan<char> text, int start)
    {
        char first = text[start];
        if (first == '\'' && ContractionLength(text, start) is int contraction and > 0)
        {
            return contraction;
        }

        int position = start;
        CharClass runClass = Classify(text, position, out int width);
        if (first == ' ' && position + 1 < text.Length)
        {
            // " ?X+": a single ASCII space joins the run of letters, digits or others after it.
            CharClass next = Classify(text, position + 1, out int nextWidth);
            if (next != CharClass.Space)
            {
                runClass = next;
                position++;
                width = nextWidth;
            }
        }

        if (runClass != CharClass.Space)
        {
            position += width;
            while (position < text.Length && Classify(text, position, out width) == runClass)
            {
                position += width;
            }

            return position - start;
        }

        return SpaceRunLength(text, start);
    }

    /// <summary>
    /// <c>\s+(?!\S)|\s+</c>: a run of spaces followed by the end of the text is taken whole;
    /// otherwise its last space is left to lead the next piece (" word"), unless the run is that
    /// single space.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int SpaceRunLength(ReadOnlySpan<char> text, int start)
    {
        // Every JavaScript space is one UTF-16 unit, so the run can be walked by char.
        int end = start + 1;
        while (end < text.Length && Classify(text, end, out _) == CharClass.Space)
        {
            end++;
        }

        if (end == text.Length || end - start == 1)
        {
            return end - start;
        }

        return end - 1 - start;
    }

    /// <summary>The length of <c>'s|'t|'re|'ve|'m|'ll|'d</c> at <paramref name="start"/>, or 0.</summary>
    private static int ContractionLength(ReadOnlySpan<char> text, int start)
    {
        if (start + 1 >= text.Length)
        {
            return 0;
        }

        char second = text[start + 1];
        if (second is 's' or 't' or 'm' or 'd')
        {
            return 2;
        }

        if (start + 2 < text.Length)
        {
            char third = text[start + 2];
            if ((second == 'r' && third == 'e') || (second == 'v' && third == 'e') || (second == 'l' && third == 'l'))
            {
                return 3;
            }
        }

        return 0;
    }

    /// <summary>The class of the code point at <paramref name="index"/>, and its width in UTF-16 units.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static CharClass Classify(ReadOnlySpan<char> text, int index, out int width)
    {
        char c = text[index];
        if (c < 128)
        {
            width = 1;
            return s_asciiClasses[c];
        }

        if (Rune.DecodeFromUtf16(text[index..], out Rune rune, out width) != OperationStatus.Done)
        {
            // A lone surrogate: JavaScript's /u regex sees it as one code point of category Cs.
            width = 1;
            return CharClass.Other;
        }

        return ClassifyNonAscii(rune);
    }

    private static CharClass ClassifyNonAscii(Rune rune)
    {
        int value = rune.Value;
        if (value is 0xFEFF or 0x2028 or 0x2029)
        {
            return CharClass.Space;
        }

        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharClass.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharClass.Number,
            UnicodeCategory.SpaceSeparator => CharClass.Space,
            _ => CharClass.Other,
        };
    }

    private static CharClass[] BuildAsciiClasses()
    {
        var classes = new CharClass[128];
        for (int c = 0; c < 128; c++)
        {
            classes[c] = c switch
            {
                '\t' or '\n' or '\v' or '\f' or '\r' or ' ' => CharClass.Space,
                >= 'a' and <= 'z' or >= 'A' and <= 'Z' => CharClass.Letter,
                >= '0' and <= '9' => CharClass.Number,
                _ => CharClass.Other,
            };
        }

        return classes;
    }
}
