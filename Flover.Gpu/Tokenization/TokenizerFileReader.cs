using System.Text;
using System.Text.Json;

namespace Flover.Gpu.Tokenization;

/// <summary>
/// Reads GPT-2 tokenizer files: <c>vocab.json</c> + <c>merges.txt</c> (OpenAI's <c>encoder.json</c> +
/// <c>vocab.bpe</c> under their Hugging Face names) or a Hugging Face <c>tokenizer.json</c>.
/// Every malformed input fails with a <see cref="FloverException"/> naming the file and the entry.
/// </summary>
internal static class TokenizerFileReader
{
    /// <summary>The token GPT-2 uses between documents; special when present in a vocab.json.</summary>
    public const string EndOfText = "<|endoftext|>";

    /// <summary>Reads <c>vocab.json</c> and <c>merges.txt</c> content.</summary>
    public static TokenizerDefinition ReadVocabularyAndMerges(byte[] vocabJson, string vocabSource, string mergesText, string mergesSource)
    {
        Dictionary<string, int> vocabulary;
        using (JsonDocument document = Parse(vocabJson, vocabSource))
        {
            vocabulary = ReadVocabulary(document.RootElement, vocabSource, "the file");
        }

        List<MergeEntry> merges = ReadMerges(mergesText, mergesSource);
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        if (vocabulary.TryGetValue(EndOfText, out int endOfText))
        {
            special.Add(EndOfText, endOfText);
        }

        return new TokenizerDefinition(vocabulary, merges, special, vocabSource, mergesSource);
    }

    /// <summary>Reads a Hugging Face <c>tokenizer.json</c> whose model is BPE.</summary>
    public static TokenizerDefinition ReadTokenizerJson(byte[] json, string source)
    {
        using JsonDocument document = Parse(json, source);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out JsonElement model) || model.ValueKind != JsonValueKind.Object)
        {
            throw new FloverException($"{source}: has no 'model' object; is it a Hugging Face tokenizer.json?");
        }

        if (model.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String && type.GetString() != "BPE")
        {
            throw new FloverException($"{source}: model type '{type.GetString()}' is not supported; Flover reads byte-level BPE (GPT-2) tokenizers.");
        }

        if (!model.TryGetProperty("vocab", out JsonElement vocab))
        {
            throw new FloverException($"{source}: has no 'model.vocab'.");
        }

        if (!model.TryGetProperty("merges", out JsonElement merges) || merges.ValueKind != JsonValueKind.Array)
        {
            throw new FloverException($"{source}: has no 'model.merges' array.");
        }

        Dictionary<string, int> vocabulary = ReadVocabulary(vocab, source, "model.vocab");
        List<MergeEntry> mergeList = ReadJsonMerges(merges, source);
        Dictionary<string, int> special = ReadAddedSpecialTokens(root, source);
        if (special.Count == 0 && vocabulary.TryGetValue(EndOfText, out int endOfText))
        {
            special.Add(EndOfText, endOfText);
        }

        return new TokenizerDefinition(vocabulary, mergeList, special, source, source);
    }

    private static JsonDocument Parse(byte[] json, string source)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException exception)
        {
            throw new FloverException($"{source}: is not valid JSON ({exception.Message}).", exception);
        }
    }

    private static Dictionary<string, int> ReadVocabulary(JsonElement element, string source, string what)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FloverException($"{source}: {what} must be a JSON object mapping each token to its id, not {element.ValueKind}.");
        }

        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var owners = new Dictionary<int, string>();
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out int id) || id < 0)
            {
                throw new FloverException($"{source}: the id of token '{property.Name}' in {what} is {property.Value.GetRawText()}, not a non-negative integer.");
            }

            if (!vocabulary.TryAdd(property.Name, id))
            {
                throw new FloverException($"{source}: token '{property.Name}' appears twice in {what}.");
            }

            if (!owners.TryAdd(id, property.Name))
            {
                throw new FloverException($"{source}: tokens '{owners[id]}' and '{property.Name}' in {what} both have id {id}.");
            }
        }

        if (vocabulary.Count == 0)
        {
            throw new FloverException($"{source}: {what} is empty.");
        }

        return vocabulary;
    }

    private static List<MergeEntry> ReadMerges(string text, string source)
    {
        var merges = new List<MergeEntry>();
        int lineNumber = 0;
        // A byte-order mark is not part of the first line.
        foreach (ReadOnlySpan<char> rawLine in text.AsSpan().TrimStart('\uFEFF').EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> line = rawLine.TrimEnd('\r');
            if (line.IsEmpty || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)))
            {
                continue;
            }

            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line[(space + 1)..].Contains(' '))
            {
                throw new FloverException($"{source}: line {lineNumber} is '{line}', not two tokens separated by one space.");
            }

            merges.Add(new MergeEntry(line[..space].ToString(), line[(space + 1)..].ToString(), $"line {lineNumber}"));
        }

        return merges;
    }

    private static List<MergeEntry> ReadJsonMerges(JsonElement merges, string source)
    {
        var list = new List<MergeEntry>(merges.GetArrayLength());
        int index = 0;
        foreach (JsonElement merge in merges.EnumerateArray())
        {
            string location = $"model.merges[{index++}]";
            if (merge.ValueKind == JsonValueKind.String)
            {
                string text = merge.GetString()!;
                int space = text.IndexOf(' ', StringComparison.Ordinal);
                if (space > 0 && space < text.Length - 1 && text.IndexOf(' ', space + 1) < 0)
                {
                    list.Add(new MergeEntry(text[..space], text[(space + 1)..], location));
                    continue;
                }
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            {
                list.Add(new MergeEntry(merge[0].GetString()!, merge[1].GetString()!, location));
                continue;
            }

            throw new FloverException($"{source}: {location} is {merge.GetRawText()}, neither \"left right\" nor [\"left\", \"right\"].");
        }

        return list;
    }

    private static Dictionary<string, int> ReadAddedSpecialTokens(JsonElement root, string source)
    {
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!root.TryGetProperty("added_tokens", out JsonElement added) || added.ValueKind != JsonValueKind.Array)
        {
            return special;
        }

        int index = 0;
        foreach (JsonElement token in added.EnumerateArray())
        {
            string location = $"added_tokens[{index++}]";
            bool isSpecial = token.ValueKind == JsonValueKind.Object && token.TryGetProperty("special", out JsonElement flag) && flag.ValueKind == JsonValueKind.True;
            if (!isSpecial)
            {
                continue;
            }

            if (!token.TryGetProperty("content", out JsonElement content) || content.ValueKind != JsonValueKind.String || content.GetString()!.Length == 0
                || !token.TryGetProperty("id", out JsonElement id) || id.ValueKind != JsonValueKind.Number || !id.TryGetInt32(out int value) || value < 0)
            {
                throw new FloverException($"{source}: {location} needs a non-empty string 'content' and a non-negative integer 'id'.");
            }

            special[content.GetString()!] = value;
        }

        return special;
    }

    /// <summary>Decodes UTF-8 text strictly, naming the file when it is not UTF-8.</summary>
    public static string DecodeUtf8(byte[] bytes, string source)
    {
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException exception)
        {
            throw new FloverException($"{source}: is not valid UTF-8 text.", exception);
        }
    }
}
