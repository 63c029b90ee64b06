using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flover.Gpu.Tokenization.HuggingFace;

/// <summary>
/// What Flover reads from a Hugging Face tokenizer.json itself before the library loads it: the
/// vocabulary size, the added and special tokens, whether the post-processor puts a BOS first;
/// and the check that every normalizer and pre-tokenizer is one the library knows, so a file from
/// a newer release fails with one line naming the component instead of a serde message.
/// </summary>
internal sealed class TokenizerJsonFile
{
    /// <summary>Normalizer types of Hugging Face tokenizers (Rust crate 0.2x, which Tokenizers.DotNet 1.4.1 wraps).</summary>
    private static readonly HashSet<string> s_normalizers = new(StringComparer.Ordinal)
    {
        "BertNormalizer", "Strip", "StripAccents", "NFC", "NFD", "NFKC", "NFKD", "Sequence", "Lowercase", "Nmt", "Precompiled", "Replace", "Prepend", "ByteLevel",
    };

    /// <summary>Pre-tokenizer types of the same release.</summary>
    private static readonly HashSet<string> s_preTokenizers = new(StringComparer.Ordinal)
    {
        "BertPreTokenizer", "ByteLevel", "Delimiter", "CharDelimiterSplit", "Metaspace", "Whitespace", "Sequence", "Split", "Punctuation", "WhitespaceSplit", "Digits", "UnicodeScripts", "FixedLength",
    };

    private TokenizerJsonFile(JsonObject root, int vocabularySize, Dictionary<string, int> added, Dictionary<string, int> special)
    {
        Root = root;
        VocabularySize = vocabularySize;
        AddedTokens = added;
        SpecialTokens = special;
    }

    /// <summary>The parsed file.</summary>
    public JsonObject Root { get; }

    /// <summary>One more than the highest id of the model's vocabulary and the added tokens.</summary>
    public int VocabularySize { get; }

    /// <summary>Every added token (content to id), special or not.</summary>
    public IReadOnlyDictionary<string, int> AddedTokens { get; }

    /// <summary>The added tokens marked <c>"special": true</c>.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>Reads and checks <paramref name="path"/>.</summary>
    /// <exception cref="FloverException">The file is missing, is not JSON, or names a component the library lacks; the message names the file and the key.</exception>
    public static TokenizerJsonFile Read(string path)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new FloverException($"{path}: not a JSON object.");
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw new FloverException($"{path}: cannot read it: {e.Message}", e);
        }

        CheckComponent(path, "normalizer", root["normalizer"], s_normalizers, "normalizers");
        CheckComponent(path, "pre_tokenizer", root["pre_tokenizer"], s_preTokenizers, "pretokenizers");
        if (root["model"] is not JsonObject model)
        {
            throw new FloverException($"{path}: 'model' is missing.");
        }

        int size = model["vocab"] switch
        {
            JsonObject vocab => vocab.Select(pair => pair.Value?.GetValue<int>() ?? -1).DefaultIfEmpty(-1).Max() + 1,
            JsonArray pieces => pieces.Count, // Unigram: [piece, score] pairs in id order.
            _ => throw new FloverException($"{path}: 'model.vocab' is missing or is neither an object nor an array."),
        };
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonNode? token in root["added_tokens"] as JsonArray ?? [])
        {
            if (token?["content"]?.GetValue<string>() is not string content || token["id"]?.GetValue<int>() is not int id)
            {
                throw new FloverException($"{path}: an entry of 'added_tokens' lacks 'id' or 'content': {token?.ToJsonString()}");
            }

            added[content] = id;
            size = Math.Max(size, id + 1);
            if (token["special"]?.GetValue<bool>() == true)
            {
                special[content] = id;
            }
        }

        return new TokenizerJsonFile(root, size, added, special);
    }

    /// <summary>
    /// Whether the post-processor puts <paramref name="bos"/> before a single sequence (LLaMA's
    /// TemplateProcessing "&lt;s&gt; $A"), directly or inside a Sequence of processors.
    /// </summary>
    public bool PostProcessorAddsBos(string bos)
    {
        JsonNode? processor = Root["post_processor"];
        IEnumerable<JsonNode?> candidates = processor?["type"]?.GetValue<string>() == "Sequence" ? processor["processors"] as JsonArray ?? [] : new[] { processor };
        return candidates.Any(p => p?["type"]?.GetValue<string>() == "TemplateProcessing"
            && (p["single"] as JsonArray)?.FirstOrDefault()?["SpecialToken"]?["id"]?.GetValue<string>() == bos);
    }

    /// <summary>
    /// The file as the library should load it: no post-processor (Flover adds BOS itself, so a
    /// rendered chat template that already holds one does not get two) and, unless
    /// <paramref name="keepSpecialTokens"/>, no special added tokens, so their spellings in user
    /// text are ordinary characters (Hugging Face's <c>split_special_tokens</c>).
    /// </summary>
    public string Variant(bool keepSpecialTokens)
    {
        var copy = (JsonObject)Root.DeepClone();
        copy["post_processor"] = null;
        if (!keepSpecialTokens && copy["added_tokens"] is JsonArray tokens)
        {
            foreach (JsonNode? token in tokens.Where(t => t?["special"]?.GetValue<bool>() == true).ToList())
            {
                tokens.Remove(token);
            }
        }

        return copy.ToJsonString();
    }

    private static void CheckComponent(string path, string key, JsonNode? node, HashSet<string> known, string sequenceKey)
    {
        if (node is null)
        {
            return;
        }

        string? type = node["type"]?.GetValue<string>();
        if (type is null || !known.Contains(type))
        {
            throw new FloverException($"{path}: {key} type '{type ?? "(none)"}' is not supported (supported: {string.Join(", ", known.Order(StringComparer.Ordinal))}).");
        }

        if (type == "Sequence")
        {
            foreach (JsonNode? inner in node[sequenceKey] as JsonArray ?? [])
            {
                CheckComponent(path, key, inner, known, sequenceKey);
            }
        }
    }
}
