namespace Flover.Gpu.Tokenization;

/// <summary>
/// GPT-2's reversible byte-to-character mapping (<c>bytes_to_unicode</c> in OpenAI's encoder.py):
/// each of the 256 byte values is written as one printable character, so BPE vocabularies can be
/// stored as JSON text and no token contains whitespace or control characters.
/// </summary>
/// <remarks>
/// The printable bytes <c>!</c>..<c>~</c>, <c>¡</c>..<c>¬</c> and <c>®</c>..<c>ÿ</c> stand for
/// themselves; the other 68 bytes, in increasing order, take U+0100, U+0101, ... (so a space,
/// byte 0x20, is <c>Ġ</c> U+0120 and a newline, 0x0A, is <c>Ċ</c> U+010A).
/// </remarks>
internal static class ByteLevelAlphabet
{
    /// <summary>The highest character the mapping produces (U+0143), the size of the reverse table.</summary>
    private const int MaxMappedChar = 0x143;

    /// <summary>The character that stands for each byte value.</summary>
    private static readonly char[] s_byteToChar = BuildByteToChar();

    /// <summary>The byte each mapped character stands for, or -1 for characters outside the alphabet.</summary>
    private static readonly short[] s_charToByte = BuildCharToByte(s_byteToChar);

    /// <summary>The character that stands for <paramref name="value"/>.</summary>
    public static char ToChar(byte value) => s_byteToChar[value];

    /// <summary>The byte that <paramref name="c"/> stands for; false for a character outside the alphabet.</summary>
    public static bool TryGetByte(char c, out byte value)
    {
        if (c <= MaxMappedChar && s_charToByte[c] >= 0)
        {
            value = (byte)s_charToByte[c];
            return true;
        }

        value = 0;
        return false;
    }

    private static bool IsPrintable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            map[b] = IsPrintable(b) ? (char)b : (char)(256 + next++);
        }

        return map;
    }

    private static short[] BuildCharToByte(char[] byteToChar)
    {
        var reverse = new short[MaxMappedChar + 1];
        Array.Fill(reverse, (short)-1);
        for (int b = 0; b < byteToChar.Length; b++)
        {
            reverse[byteToChar[b]] = (short)b;
        }

        return reverse;
    }
}
