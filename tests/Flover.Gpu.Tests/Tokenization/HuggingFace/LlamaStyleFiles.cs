using System.Text;
using System.Text.Json.Nodes;
using Flover.Gpu.Tokenization;

namespace Flover.Gpu.Tests.Tokenization.HuggingFace;

/// <summary>
/// Writes the two Hugging Face tokenizer folders the tests check against the JavaScript
/// reference: LLaMA 3's style (byte-level BPE, tiktoken-style split pattern) over GPT-2's own
/// vocabulary and merges, and LLaMA 2's style (SentencePiece-style BPE with "▁" and byte fallback)
/// over a vocabulary built here from GPT-2's merges. Deterministic: the same files every run.
/// </summary>
internal static class LlamaStyleFiles
{
    /// <summary>LLaMA 3's split pattern, as its tokenizer.json spells it.</summary>
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>LLaMA 3's special tokens (a subset), appended after GPT-2's 50,257 ids.</summary>
    public static readonly string[] Llama3Specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];

    /// <summary>Characters the SentencePiece-style vocabulary holds as single tokens; anything else falls back to bytes.</summary>
    private const string SentencePieceAlphabet = "▁abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:;()éèàüöñç日本語中文你好世界";

    /// <summary>How many merges the SentencePiece-style vocabulary takes from GPT-2's list.</summary>
    public const int SentencePieceMerges = 1500;

    /// <summary>Writes tokenizer.json and tokenizer_config.json in LLaMA 3's style to <paramref name="folder"/>.</summary>
    public static void WriteLlama3Style(string folder)
    {
        var vocab = (JsonObject)JsonNode.Parse(Resource(Gpt2Tokenizer.VocabFileName))!;
        var merges = new JsonArray();
        foreach (string line in Encoding.UTF8.GetString(Resource(Gpt2Tokenizer.MergesFileName)).Split('\n').Skip(1).Where(l => l.Length > 0))
        {
            merges.Add(line);
        }

        var added = new JsonArray(AddedToken(50256, "<|endoftext|>", special: true));
        for (int i = 0; i < Llama3Specials.Length; i++)
        {
            vocab[Llama3Specials[i]] = 50257 + i;
            added.Add(AddedToken(50257 + i, Llama3Specials[i], special: true));
        }

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Llama3Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["post_processor"] = BosProcessor("<|begin_of_text|>", 50257),
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = true, ["vocab"] = vocab, ["merges"] = merges,
            },
        };
        Write(folder, "tokenizer.json", root);
        Write(folder, "tokenizer_config.json", new JsonObject { ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|eot_id|>", ["model_max_length"] = 8192 });
    }

    /// <summary>Writes GPT-2 itself as a tokenizer.json (its ByteLevel pre-tokenizer, no BOS) to <paramref name="folder"/>.</summary>
    public static void WriteGpt2Style(string folder)
    {
        WriteLlama3Style(folder);
        string path = Path.Combine(folder, "tokenizer.json");
        JsonNode root = JsonNode.Parse(File.ReadAllText(path))!;
        root["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        root["post_processor"] = null;
        root["model"]!["ignore_merges"] = false;
        root["added_tokens"] = new JsonArray(AddedToken(50256, "<|endoftext|>", special: true));
        foreach (string special in Llama3Specials)
        {
            root["model"]!["vocab"]!.AsObject().Remove(special);
        }

        Write(folder, "tokenizer.json", root);
        Write(folder, "tokenizer_config.json", new JsonObject { ["bos_token"] = "<|endoftext|>", ["eos_token"] = "<|endoftext|>" });
    }

    /// <summary>Writes tokenizer.json and tokenizer_config.json in LLaMA 2's (and TinyLlama's) style to <paramref name="folder"/>.</summary>
    public static void WriteSentencePieceStyle(string folder)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++)
        {
            vocab[$"<0x{b:X2}>"] = vocab.Count;
        }

        foreach (char c in SentencePieceAlphabet)
        {
            vocab[c.ToString()] = vocab.Count;
        }

        // GPT-2's merges in rank order, "Ġ" read as "▁", kept where both halves are already
        // tokens: a real merge list (frequent English pieces first) without training one here.
        var merges = new JsonArray();
        foreach (string line in Encoding.UTF8.GetString(Resource(Gpt2Tokenizer.MergesFileName)).Split('\n').Skip(1).Where(l => l.Length > 0))
        {
            string[] parts = line.Replace('Ġ', '▁').Split(' ');
            string merged = parts[0] + parts[1];
            if (merges.Count == SentencePieceMerges || !vocab.ContainsKey(parts[0]) || !vocab.ContainsKey(parts[1]) || vocab.ContainsKey(merged))
            {
                continue;
            }

            vocab[merged] = vocab.Count;
            merges.Add($"{parts[0]} {parts[1]}");
        }

        int imStart = vocab.Count;
        vocab["<|im_start|>"] = imStart;
        vocab["<|im_end|>"] = imStart + 1;
        vocab["<tool_call>"] = imStart + 2;
        var added = new JsonArray(
            AddedToken(0, "<unk>", special: true),
            AddedToken(1, "<s>", special: true),
            AddedToken(2, "</s>", special: true),
            AddedToken(imStart, "<|im_start|>", special: true),
            AddedToken(imStart + 1, "<|im_end|>", special: true),
            AddedToken(imStart + 2, "<tool_call>", special: false));

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            },
            ["pre_tokenizer"] = null,
            ["post_processor"] = BosProcessor("<s>", 1),
            ["decoder"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                    new JsonObject { ["type"] = "ByteFallback" },
                    new JsonObject { ["type"] = "Fuse" },
                    new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = "<unk>", ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
                ["fuse_unk"] = true, ["byte_fallback"] = true, ["vocab"] = vocab, ["merges"] = merges,
            },
        };
        Write(folder, "tokenizer.json", root);
        Write(folder, "tokenizer_config.json", new JsonObject
        {
            ["bos_token"] = new JsonObject { ["content"] = "<s>", ["special"] = true },
            ["eos_token"] = new JsonObject { ["content"] = "</s>", ["special"] = true },
            ["unk_token"] = "<unk>",
            ["model_max_length"] = 2048,
        });
    }

    private static JsonObject AddedToken(int id, string content, bool special) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = special,
    };

    /// <summary>A TemplateProcessing post-processor that puts <paramref name="bos"/> before every sequence, as LLaMA's do.</summary>
    private static JsonObject BosProcessor(string bos, int id) => new()
    {
        ["type"] = "TemplateProcessing",
        ["single"] = new JsonArray(
            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = bos, ["type_id"] = 0 } },
            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
        ["pair"] = new JsonArray(
            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = bos, ["type_id"] = 0 } },
            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = bos, ["type_id"] = 1 } },
            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
        ["special_tokens"] = new JsonObject { [bos] = new JsonObject { ["id"] = bos, ["ids"] = new JsonArray(id), ["tokens"] = new JsonArray(bos) } },
    };

    private static void Write(string folder, string name, JsonNode json) =>
        File.WriteAllText(Path.Combine(folder, name), json.ToJsonString(), new UTF8Encoding(false));

    private static byte[] Resource(string name)
    {
        using Stream stream = typeof(Gpt2Tokenizer).Assembly.GetManifestResourceStream("Flover.Gpu.Tokenization.Data." + name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
