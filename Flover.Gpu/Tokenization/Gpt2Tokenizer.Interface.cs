namespace Flover.Gpu.Tokenization;

/// <summary>GPT-2's answers to <see cref="ITokenizer"/>.</summary>
public sealed partial class Gpt2Tokenizer : ITokenizer
{
    /// <summary>GPT-2 has no separate BOS: its tokenizer_config.json names &lt;|endoftext|&gt; for both ends.</summary>
    int? ITokenizer.BosTokenId => EndOfTextId;

    /// <inheritdoc/>
    int? ITokenizer.EosTokenId => EndOfTextId;

    /// <summary>GPT-2 prompts start with their first word; OpenAI's encoder adds nothing.</summary>
    bool ITokenizer.AddsBosToken => false;

    /// <summary>GPT-2 ships no chat template; the HTTP layer uses its plain one.</summary>
    string? ITokenizer.ChatTemplate => null;

    /// <inheritdoc/>
    IIncrementalDecoder ITokenizer.CreateIncrementalDecoder() => CreateIncrementalDecoder();
}
