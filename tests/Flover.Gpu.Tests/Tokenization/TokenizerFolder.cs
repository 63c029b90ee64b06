using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flover.Gpu.Tokenization;

namespace Flover.Gpu.Tests.Tokenization;

/// <summary>A temporary folder in which tests write tokenizer files, good or broken.</summary>
internal sealed class TokenizerFolder : IDisposable
{
    /// <summary>Writes non-ASCII and HTML characters as they are, so tests can edit the JSON text.</summary>
    private static readonly JsonSerializerOptions s_readableJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public TokenizerFolder() => Path = Directory.CreateTempSubdirectory("flover-tokenizer-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Write(string name, string text) => System.IO.File.WriteAllText(File(name), text, new UTF8Encoding(false));

    public void Write(string name, byte[] bytes) => System.IO.File.WriteAllBytes(File(name), bytes);

    /// <summary>Writes GPT-2's real vocab.json and merges.txt (from Flover.Gpu's resources).</summary>
    public void WriteGpt2Files()
    {
        Write(Gpt2Tokenizer.VocabFileName, Resource(Gpt2Tokenizer.VocabFileName));
        Write(Gpt2Tokenizer.MergesFileName, Resource(Gpt2Tokenizer.MergesFileName));
    }

    /// <summary>Writes GPT-2 as a Hugging Face tokenizer.json, merges as "a b" strings or as [a, b] pairs.</summary>
    public void WriteGpt2TokenizerJson(bool mergesAsPairs)
    {
        JsonNode vocab = JsonNode.Parse(Resource(Gpt2Tokenizer.VocabFileName))!;
        var merges = new JsonArray();
        foreach (string line in Encoding.UTF8.GetString(Resource(Gpt2Tokenizer.MergesFileName)).Split('\n').Skip(1).Where(l => l.Length > 0))
        {
            string[] parts = line.Split(' ');
            merges.Add(mergesAsPairs ? new JsonArray(parts[0], parts[1]) : JsonValue.Create(line));
        }

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 50256, ["content"] = "<|endoftext|>", ["special"] = true }),
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = merges },
        };
        Write(Gpt2Tokenizer.TokenizerJsonFileName, root.ToJsonString());
    }

    /// <summary>
    /// Writes a small byte-level vocabulary: the 256 byte tokens (ids 0..255 in byte order), then
    /// <paramref name="extraTokens"/>, then &lt;|endoftext|&gt;; and <paramref name="merges"/> as merges.txt lines.
    /// </summary>
    public void WriteTiny(string[] extraTokens, string[] merges)
    {
        var vocab = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++)
        {
            vocab[ByteLevelAlphabet.ToChar((byte)b).ToString()] = b;
        }

        foreach (string token in extraTokens)
        {
            vocab[token] = vocab.Count;
        }

        vocab["<|endoftext|>"] = vocab.Count;
        Write(Gpt2Tokenizer.VocabFileName, JsonSerializer.Serialize(vocab, s_readableJson));
        Write(Gpt2Tokenizer.MergesFileName, "#version: 0.2\n" + string.Join("\n", merges) + "\n");
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);

    private static byte[] Resource(string name)
    {
        using Stream stream = typeof(Gpt2Tokenizer).Assembly.GetManifestResourceStream("Flover.Gpu.Tokenization.Data." + name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
