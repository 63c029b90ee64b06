namespace Flover.Gpu.Tokenization;

/// <summary>Helpers over <see cref="ITokenizer"/> that every kind of tokenizer shares.</summary>
public static class TokenizerExtensions
{
    /// <summary>
    /// Encodes user text as a prompt: special-token spellings stay ordinary characters, and the
    /// BOS token leads where the tokenizer asks for one (<see cref="ITokenizer.AddsBosToken"/>).
    /// </summary>
    public static int[] EncodePrompt(this ITokenizer tokenizer, string text)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        int[] ids = tokenizer.Encode(text);
        return tokenizer.AddsBosToken && tokenizer.BosTokenId is int bos ? [bos, .. ids] : ids;
    }
}
