using Flover.Gpu.Tokenization;

namespace Flover.Gpu.Tests.Tokenization;

public sealed class ByteLevelAlphabetTests
{
    [Theory]
    [InlineData(0x21, '!')]
    [InlineData(0x7E, '~')]
    [InlineData(0xA1, '¡')]
    [InlineData(0xFF, 'ÿ')]
    [InlineData(0x00, '\u0100')]
    [InlineData(0x0A, 'Ċ')]
    [InlineData(0x20, 'Ġ')]
    [InlineData(0x7F, '\u0121')]
    [InlineData(0xAD, '\u0143')]
    public void Bytes_map_to_GPT2s_characters(int value, char expected)
    {
        Assert.Equal(expected, ByteLevelAlphabet.ToChar((byte)value));
    }

    [Fact]
    public void Every_byte_maps_to_a_distinct_character_that_maps_back()
    {
        var seen = new HashSet<char>();
        for (int b = 0; b < 256; b++)
        {
            char c = ByteLevelAlphabet.ToChar((byte)b);
            Assert.True(seen.Add(c), $"byte {b} maps to {c}, already used");
            Assert.True(ByteLevelAlphabet.TryGetByte(c, out byte back));
            Assert.Equal(b, back);
        }
    }

    [Theory]
    [InlineData(' ')]
    [InlineData('\u00AD')]
    [InlineData('\u0144')]
    [InlineData('中')]
    public void Characters_outside_the_alphabet_have_no_byte(char c)
    {
        Assert.False(ByteLevelAlphabet.TryGetByte(c, out _));
    }
}
