using System.Text.Json;
using Flover.Gpu.Tests.Reference;
using Flover.Gpu.Tokenization;
using Flover.Gpu.Tokenization.HuggingFace;

namespace Flover.Gpu.Tests.Tokenization.HuggingFace;

/// <summary>
/// tokenizer.json in both of LLaMA's styles, id for id with Hugging Face's JavaScript
/// (<c>@huggingface/tokenizers</c>): always against the committed answers, and live where node runs.
/// </summary>
public sealed class HuggingFaceGoldenTests : IClassFixture<HuggingFaceGoldenTests.Folders>
{
    private readonly Folders _folders;

    public HuggingFaceGoldenTests(Folders folders) => _folders = folders;

    public static TheoryData<string> Styles => ["llama3", "sentencepiece"];

    [Theory]
    [MemberData(nameof(Styles))]
    public void Ids_and_text_match_the_committed_javascript_answers(string style)
    {
        using JsonDocument golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(NodeReference.DataFolder, $"golden-{style}.json")));
        AssertMatches(_folders.Tokenizer(style), golden.RootElement);
    }

    [ReferenceFact]
    public async Task Llama3_style_matches_huggingface_tokenizers_js_live() =>
        AssertMatches(_folders.Tokenizer("llama3"), await NodeReference.RunAsync("tokenize", _folders.Path("llama3"), Path.Combine(NodeReference.DataFolder, "corpus.json")));

    [ReferenceFact]
    public async Task SentencePiece_style_matches_huggingface_tokenizers_js_live() =>
        AssertMatches(_folders.Tokenizer("sentencepiece"), await NodeReference.RunAsync("tokenize", _folders.Path("sentencepiece"), Path.Combine(NodeReference.DataFolder, "corpus.json")));

    [Fact]
    public void The_corpus_covers_every_entry_and_both_styles_merge_real_pieces()
    {
        string[] corpus = JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(NodeReference.DataFolder, "corpus.json")))!;
        Assert.True(corpus.Length >= 200);
        ITokenizer sentencePiece = _folders.Tokenizer("sentencepiece");
        // Merges at work: "▁the" is one token; a character outside the vocabulary falls back to its UTF-8 bytes (<0xF0> is id 3 + 0xF0).
        Assert.Single(sentencePiece.Encode("the"));
        Assert.Equal([3 + 0xF0, 3 + 0x9F, 3 + 0x98, 3 + 0x80], sentencePiece.Encode("😀")[1..]);
    }

    private static void AssertMatches(ITokenizer tokenizer, JsonElement answers)
    {
        Assert.True(answers.GetArrayLength() >= 200);
        foreach (JsonElement answer in answers.EnumerateArray())
        {
            string text = answer.GetProperty("text").GetString()!;
            int[] ids = tokenizer.Encode(text, allowSpecialTokens: true);
            Assert.True(Ids(answer, "ids").SequenceEqual(ids), $"ids of {JsonSerializer.Serialize(text)}: reference [{string.Join(",", Ids(answer, "ids"))}], Flover [{string.Join(",", ids)}]");
            int[] withBos = tokenizer.AddsBosToken ? [tokenizer.BosTokenId!.Value, .. ids] : ids;
            Assert.True(Ids(answer, "idsWithSpecial").SequenceEqual(withBos), $"ids with BOS of {JsonSerializer.Serialize(text)}");
            string decoded = tokenizer.Decode(ids);
            string? expected = answer.GetProperty("decoded").GetString();
            if (expected != decoded && expected == text.Replace("\uFEFF", string.Empty, StringComparison.Ordinal))
            {
                // The JavaScript ByteFallback decoder reads bytes with TextDecoder, which drops a BOM
                // at the start of each run of byte tokens; Rust (and Python) keep U+FEFF.
                expected = text;
            }

            Assert.True(expected == decoded, $"decode of {JsonSerializer.Serialize(text)}: reference {answer.GetProperty("decoded")}, Flover {JsonSerializer.Serialize(decoded)}");
        }
    }

    private static int[] Ids(JsonElement answer, string name) => answer.GetProperty(name).EnumerateArray().Select(id => id.GetInt32()).ToArray();

    /// <summary>Both styles' files, written once for the class, and their tokenizers.</summary>
    public sealed class Folders : IDisposable
    {
        private readonly string _root = Directory.CreateTempSubdirectory("flover-hf-styles-").FullName;
        private readonly Dictionary<string, HuggingFaceTokenizer> _tokenizers = [];

        public Folders()
        {
            Directory.CreateDirectory(Path("llama3"));
            Directory.CreateDirectory(Path("sentencepiece"));
            LlamaStyleFiles.WriteLlama3Style(Path("llama3"));
            LlamaStyleFiles.WriteSentencePieceStyle(Path("sentencepiece"));
            _tokenizers["llama3"] = HuggingFaceTokenizer.FromFolder(Path("llama3"));
            _tokenizers["sentencepiece"] = HuggingFaceTokenizer.FromFolder(Path("sentencepiece"));
        }

        public string Path(string style) => System.IO.Path.Combine(_root, style);

        public HuggingFaceTokenizer Tokenizer(string style) => _tokenizers[style];

        public void Dispose() => Directory.Delete(_root, recursive: true);
    }
}
