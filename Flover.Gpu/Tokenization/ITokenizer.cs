namespace Flover.Gpu.Tokenization;

/// <summary>
/// What the engine and the HTTP layer need of a tokenizer, whichever kind a model folder holds:
/// GPT-2's vocab.json + merges.txt (<see cref="Gpt2Tokenizer"/>) or a Hugging Face tokenizer.json
/// (<see cref="HuggingFace.HuggingFaceTokenizer"/>). <see cref="TokenizerLoader"/> picks one.
/// Implementations are immutable and safe to share between threads.
/// </summary>
public interface ITokenizer
{
    /// <summary>Where the tokenizer was loaded from, for messages.</summary>
    string Source { get; }

    /// <summary>The number of token ids (one more than the highest id).</summary>
    int VocabularySize { get; }

    /// <summary>The beginning-of-sequence token, or null where the tokenizer names none.</summary>
    int? BosTokenId { get; }

    /// <summary>The end-of-sequence token, or null where the tokenizer names none.</summary>
    int? EosTokenId { get; }

    /// <summary>
    /// Whether a prompt starts with <see cref="BosTokenId"/> (LLaMA's tokenizers add it, GPT-2's does
    /// not); <see cref="TokenizerExtensions.EncodePrompt"/> applies it, <see cref="Encode"/> never does.
    /// </summary>
    bool AddsBosToken { get; }

    /// <summary>The special tokens (content to id), which text produces only with <c>allowSpecialTokens</c>.</summary>
    IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>The Jinja chat template of the model (tokenizer_config.json's <c>chat_template</c>), or null.</summary>
    string? ChatTemplate { get; }

    /// <summary>Encodes <paramref name="text"/> to ids, adding no BOS or EOS of its own.</summary>
    /// <param name="text">Any string.</param>
    /// <param name="allowSpecialTokens">When true, text spelling a special token becomes that token's id
    /// (as a rendered chat template needs); when false it is encoded as ordinary characters.</param>
    int[] Encode(string text, bool allowSpecialTokens = false);

    /// <summary>Decodes <paramref name="ids"/> to text.</summary>
    /// <exception cref="FloverException">An id is not in the vocabulary.</exception>
    string Decode(ReadOnlySpan<int> ids);

    /// <summary>The UTF-8 bytes <paramref name="ids"/> stand for (for <c>logprobs</c> bytes).</summary>
    /// <exception cref="FloverException">An id is not in the vocabulary.</exception>
    byte[] DecodeToUtf8(ReadOnlySpan<int> ids);

    /// <summary>Creates a decoder that turns a stream of ids into text as soon as its characters are complete.</summary>
    IIncrementalDecoder CreateIncrementalDecoder();
}
