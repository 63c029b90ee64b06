using System.Text;
using Native = Tokenizers.DotNet.Tokenizer;

namespace Flover.Gpu.Tokenization.HuggingFace;

/// <summary>
/// A tokenizer read from a Hugging Face tokenizer.json (LLaMA 2 and 3, TinyLlama, Mistral, ...),
/// run by Hugging Face's own Rust <c>tokenizers</c> through Tokenizers.DotNet, so every normalizer,
/// pre-tokenizer, model and decoder behaves as in Python and in <c>@huggingface/tokenizers</c>.
/// BOS, EOS, <c>add_bos_token</c> and the chat template come from tokenizer_config.json.
/// </summary>
/// <remarks>
/// Tokenizers.DotNet exposes only <c>Encode(text)</c> and <c>Decode(ids)</c> (skipping special
/// tokens), so the file is loaded twice: once without its special added tokens, for user text in
/// which "&lt;|eot_id|&gt;" must stay characters, and once with them, for rendered chat templates.
/// Both copies drop the post-processor: BOS is added by <see cref="TokenizerExtensions.EncodePrompt"/>
/// (or written by the template itself), never twice.
/// </remarks>
public sealed class HuggingFaceTokenizer : ITokenizer
{
    /// <summary>The file name in a model folder.</summary>
    public const string FileName = "tokenizer.json";

    private readonly Native _plain;
    private readonly Native _withSpecials;

    private HuggingFaceTokenizer(string source, TokenizerJsonFile file, TokenizerConfigFile config, Native plain, Native withSpecials)
    {
        Source = source;
        _plain = plain;
        _withSpecials = withSpecials;
        VocabularySize = file.VocabularySize;
        SpecialTokens = file.SpecialTokens;
        BosTokenId = TokenId(source, file, config.BosToken, "bos_token");
        EosTokenId = TokenId(source, file, config.EosToken, "eos_token");
        AddsBosToken = BosTokenId is not null && (config.AddBosToken ?? file.PostProcessorAddsBos(config.BosToken!));
        ChatTemplate = config.ChatTemplate;
    }

    /// <inheritdoc/>
    public string Source { get; }

    /// <inheritdoc/>
    public int VocabularySize { get; }

    /// <inheritdoc/>
    public int? BosTokenId { get; }

    /// <inheritdoc/>
    public int? EosTokenId { get; }

    /// <inheritdoc/>
    public bool AddsBosToken { get; }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <inheritdoc/>
    public string? ChatTemplate { get; }

    /// <summary>Loads <c>tokenizer.json</c> and, where present, <c>tokenizer_config.json</c> from <paramref name="folder"/>.</summary>
    /// <exception cref="FloverException">A file is missing or malformed, or names a component the library lacks; one line naming the file.</exception>
    public static HuggingFaceTokenizer FromFolder(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            throw new FloverException($"{folder}: no {FileName}.");
        }

        TokenizerJsonFile file = TokenizerJsonFile.Read(path);
        TokenizerConfigFile config = TokenizerConfigFile.Read(Path.Combine(folder, TokenizerConfigFile.FileName));
        return new HuggingFaceTokenizer(folder, file, config, Load(path, file.Variant(keepSpecialTokens: false)), Load(path, file.Variant(keepSpecialTokens: true)));
    }

    /// <summary>Encodes <paramref name="text"/> to ids, adding no BOS or EOS of its own; lone surrogates are encoded as U+FFFD.</summary>
    /// <param name="text">Any string.</param>
    /// <param name="allowSpecialTokens">When true, text spelling a special token becomes that token's id; when false it is ordinary characters.</param>
    public int[] Encode(string text, bool allowSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        uint[] ids = (allowSpecialTokens ? _withSpecials : _plain).Encode(WellFormed(text));
        return Array.ConvertAll(ids, id => (int)id);
    }

    /// <summary>Decodes <paramref name="ids"/> through the tokenizer's decoder; special tokens are left out, as in generated text.</summary>
    /// <exception cref="FloverException">An id is not in the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var native = new uint[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            native[i] = (uint)CheckId(ids[i]);
        }

        return ids.IsEmpty ? string.Empty : _withSpecials.Decode(native);
    }

    /// <summary>
    /// The UTF-8 of <see cref="Decode"/>: the library hands out text, not bytes, so a token that
    /// holds part of a character (a byte-fallback token) gives the bytes of U+FFFD.
    /// </summary>
    public byte[] DecodeToUtf8(ReadOnlySpan<int> ids) => Encoding.UTF8.GetBytes(Decode(ids));

    /// <inheritdoc/>
    public IIncrementalDecoder CreateIncrementalDecoder() => new WindowedIncrementalDecoder(this);

    /// <summary>
    /// <paramref name="text"/> with each lone surrogate as U+FFFD, as <see cref="Gpt2Tokenizer"/> and
    /// JavaScript's TextEncoder write them: the library rejects such strings ("Invalid UTF-16 text
    /// string"), and a request's JSON may carry one (<c>"\ud800"</c>).
    /// </summary>
    private static string WellFormed(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));
            }
        }

        return text;
    }

    /// <summary>Returns <paramref name="id"/>, or fails naming it and the valid range.</summary>
    internal int CheckId(int id) => (uint)id < (uint)VocabularySize
        ? id
        : throw new FloverException($"Token id {id} is not in the vocabulary of {Source} (ids 0 to {VocabularySize - 1}).");

    private static int? TokenId(string folder, TokenizerJsonFile file, string? content, string key)
    {
        if (content is null)
        {
            return null;
        }

        if (file.AddedTokens.TryGetValue(content, out int id))
        {
            return id;
        }

        if (file.Root["model"]?["vocab"]?[content]?.GetValue<int>() is int vocabId)
        {
            return vocabId;
        }

        throw new FloverException($"{Path.Combine(folder, TokenizerConfigFile.FileName)}: '{key}' is '{content}', which is not a token of {FileName}.");
    }

    /// <summary>The library reads only files: write the variant beside nothing else, load it, delete it.</summary>
    private static Native Load(string path, string json)
    {
        string temporary = Path.Combine(Path.GetTempPath(), $"flover-tokenizer-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(temporary, json, new UTF8Encoding(false));
            return new Native(temporary);
        }
        catch (Exception e) when (e is Tokenizers.DotNet.TokenizerException or DllNotFoundException or IOException)
        {
            string reason = e.Message.Split('\n')[0];
            throw new FloverException($"{path}: Hugging Face tokenizers cannot load it: {reason}", e);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
