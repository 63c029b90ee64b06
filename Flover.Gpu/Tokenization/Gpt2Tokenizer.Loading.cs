using System.Text;

namespace Flover.Gpu.Tokenization;

public sealed partial class Gpt2Tokenizer
{
    /// <summary>The file names a Hugging Face folder uses for a GPT-2 tokenizer.</summary>
    public const string VocabFileName = "vocab.json";

    /// <summary>The merges file of a Hugging Face GPT-2 folder.</summary>
    public const string MergesFileName = "merges.txt";

    /// <summary>The single-file Hugging Face tokenizer.</summary>
    public const string TokenizerJsonFileName = "tokenizer.json";

    private static readonly Lazy<Gpt2Tokenizer> s_default = new(LoadEmbedded, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// OpenAI's GPT-2 tokenizer (50257 tokens), shipped inside Flover.Gpu and loaded on first use;
    /// the tokenizer of every preset.
    /// </summary>
    public static Gpt2Tokenizer Default => s_default.Value;

    /// <summary>
    /// Loads the tokenizer of a Hugging Face model folder: <c>vocab.json</c> with <c>merges.txt</c>
    /// when both are there, else <c>tokenizer.json</c>.
    /// </summary>
    /// <exception cref="FloverException">The folder has neither, or a file is malformed (the message names it).</exception>
    public static Gpt2Tokenizer FromFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string vocab = Path.Combine(folder, VocabFileName);
        string merges = Path.Combine(folder, MergesFileName);
        string tokenizerJson = Path.Combine(folder, TokenizerJsonFileName);
        if (File.Exists(vocab) && File.Exists(merges))
        {
            return FromVocabAndMerges(vocab, merges);
        }

        if (File.Exists(tokenizerJson))
        {
            return FromTokenizerJson(tokenizerJson);
        }

        string missing = File.Exists(vocab) ? MergesFileName : File.Exists(merges) ? VocabFileName : $"{VocabFileName} and {MergesFileName}";
        throw new FloverException($"No tokenizer in {Path.GetFullPath(folder)}: it needs {VocabFileName} with {MergesFileName}, or {TokenizerJsonFileName} (missing: {missing}).");
    }

    /// <summary>Loads a tokenizer from a <c>vocab.json</c> and a <c>merges.txt</c> file.</summary>
    /// <exception cref="FloverException">A file is missing or malformed (the message names it).</exception>
    public static Gpt2Tokenizer FromVocabAndMerges(string vocabPath, string mergesPath)
    {
        byte[] vocab = ReadFile(vocabPath);
        string merges = TokenizerFileReader.DecodeUtf8(ReadFile(mergesPath), mergesPath);
        return new Gpt2Tokenizer(TokenizerFileReader.ReadVocabularyAndMerges(vocab, vocabPath, merges, mergesPath), Path.GetDirectoryName(Path.GetFullPath(vocabPath))!);
    }

    /// <summary>Loads a tokenizer from a Hugging Face <c>tokenizer.json</c> with a byte-level BPE model.</summary>
    /// <exception cref="FloverException">The file is missing or malformed, or its model is not BPE.</exception>
    public static Gpt2Tokenizer FromTokenizerJson(string path)
    {
        byte[] json = ReadFile(path);
        return new Gpt2Tokenizer(TokenizerFileReader.ReadTokenizerJson(json, path), Path.GetFullPath(path));
    }

    /// <summary>Loads a new instance of the embedded GPT-2 tokenizer (with its own cache).</summary>
    internal static Gpt2Tokenizer LoadEmbedded()
    {
        const string Prefix = "Flover.Gpu.Tokenization.Data.";
        byte[] vocab = ReadResource(Prefix + VocabFileName);
        string merges = Encoding.UTF8.GetString(ReadResource(Prefix + MergesFileName));
        return new Gpt2Tokenizer(TokenizerFileReader.ReadVocabularyAndMerges(vocab, "embedded " + VocabFileName, merges, "embedded " + MergesFileName), "embedded GPT-2");
    }

    private static byte[] ReadResource(string name)
    {
        using Stream stream = typeof(Gpt2Tokenizer).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Flover.Gpu was built without its resource {name}.");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new FloverException($"Cannot read tokenizer file {path}: {exception.Message}", exception);
        }
    }
}
