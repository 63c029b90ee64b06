using System.Text.Json.Nodes;
using Flover.Gpu.Tokenization;
using Flover.Gpu.Tokenization.HuggingFace;

namespace Flover.Gpu.Tests.Tokenization.HuggingFace;

/// <summary>What Flover adds around the library: BOS/EOS, special-token modes, streaming, folder detection, one-line errors.</summary>
public sealed class HuggingFaceTokenizerTests : IClassFixture<HuggingFaceGoldenTests.Folders>
{
    private readonly HuggingFaceGoldenTests.Folders _folders;

    public HuggingFaceTokenizerTests(HuggingFaceGoldenTests.Folders folders) => _folders = folders;

    [Fact]
    public void Bos_eos_vocabulary_and_special_tokens_come_from_the_two_files()
    {
        HuggingFaceTokenizer llama3 = _folders.Tokenizer("llama3");
        Assert.Equal(50257, llama3.BosTokenId);
        Assert.Equal(50261, llama3.EosTokenId); // <|eot_id|>, tokenizer_config.json's eos_token.
        Assert.True(llama3.AddsBosToken);
        Assert.Equal(50262, llama3.VocabularySize);
        Assert.Equal(50261, llama3.SpecialTokens["<|eot_id|>"]);

        HuggingFaceTokenizer sentencePiece = _folders.Tokenizer("sentencepiece");
        Assert.Equal((1, 2), (sentencePiece.BosTokenId, sentencePiece.EosTokenId));
        Assert.DoesNotContain("<tool_call>", sentencePiece.SpecialTokens.Keys); // Added, but not special.
        Assert.Equal([1, .. sentencePiece.Encode("Hi")], sentencePiece.EncodePrompt("Hi"));
    }

    [Fact]
    public void Special_token_spellings_in_user_text_stay_characters_unless_allowed()
    {
        HuggingFaceTokenizer llama3 = _folders.Tokenizer("llama3");
        const string Text = "a<|eot_id|>b";
        Assert.Contains(50261, llama3.Encode(Text, allowSpecialTokens: true));
        int[] plain = llama3.Encode(Text);
        Assert.DoesNotContain(50261, plain);
        Assert.Equal(Text, llama3.Decode(plain));
        Assert.Equal(Gpt2Tokenizer.Default.Encode("Hello world"), llama3.Encode("Hello world"));
    }

    [Theory]
    [InlineData("llama3")]
    [InlineData("sentencepiece")]
    public void A_lone_surrogate_is_encoded_as_U_FFFD(string style)
    {
        HuggingFaceTokenizer tokenizer = _folders.Tokenizer(style);
        Assert.Equal(tokenizer.Encode("a\uFFFDb\uFFFD"), tokenizer.Encode("a\uD800b\uDC00"));
        Assert.Equal(tokenizer.Encode("x😀"), tokenizer.Encode("x\uD83D\uDE00"));
    }

    [Theory]
    [InlineData("llama3")]
    [InlineData("sentencepiece")]
    public void Streaming_decode_joins_to_the_one_shot_decode(string style)
    {
        HuggingFaceTokenizer tokenizer = _folders.Tokenizer(style);
        foreach (string text in new[] { "Hello world, how are you?", " leading space", "Emoji 😀👍🏽 and 日本語 mixed", "tabs\tand\nnewlines  ", "the end" })
        {
            int[] ids = tokenizer.Encode(text);
            IIncrementalDecoder decoder = tokenizer.CreateIncrementalDecoder();
            string streamed = string.Concat(ids.Select(decoder.Append)) + decoder.Flush();
            Assert.Equal(tokenizer.Decode(ids), streamed);
            Assert.DoesNotContain('\uFFFD', streamed);
        }
    }

    [Fact]
    public void Concurrent_requests_get_the_same_ids_and_text_as_one_at_a_time()
    {
        // The HTTP layer encodes and decodes from many threads over one instance.
        HuggingFaceTokenizer tokenizer = _folders.Tokenizer("llama3");
        string[] texts = Enumerable.Range(0, 64).Select(i => $"Request {i}: {new string('x', i)} 日本語 {i * 7919} 😀").ToArray();
        int[][] expected = texts.Select(t => tokenizer.Encode(t)).ToArray();
        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            int[] ids = tokenizer.Encode(texts[i % texts.Length]);
            Assert.Equal(expected[i % texts.Length], ids);
            Assert.Equal(texts[i % texts.Length], tokenizer.Decode(ids));
        });
    }

    [Fact]
    public void Invalid_ids_fail_naming_the_id_and_the_range()
    {
        var error = Assert.Throws<FloverException>(() => _folders.Tokenizer("llama3").Decode([50262]));
        Assert.Contains("50262", error.Message, StringComparison.Ordinal);
        Assert.Contains("0 to 50261", error.Message, StringComparison.Ordinal);
        Assert.Throws<FloverException>(() => _folders.Tokenizer("sentencepiece").CreateIncrementalDecoder().Append(-1));
    }

    [Fact]
    public void The_loader_picks_gpt2_files_first_and_tokenizer_json_otherwise()
    {
        using var folder = new TokenizerFolder();
        LlamaStyleFiles.WriteSentencePieceStyle(folder.Path);
        Assert.IsType<HuggingFaceTokenizer>(TokenizerLoader.FromFolder(folder.Path));
        folder.WriteGpt2Files();
        Assert.IsType<Gpt2Tokenizer>(TokenizerLoader.FromFolder(folder.Path));
    }

    [Theory]
    [InlineData("normalizer", """{"type": "Shout"}""", "normalizer type 'Shout' is not supported")]
    [InlineData("pre_tokenizer", """{"type": "Sequence", "pretokenizers": [{"type": "Whisper"}]}""", "pre_tokenizer type 'Whisper' is not supported")]
    public void An_unknown_component_fails_with_one_line_naming_it(string key, string json, string expected)
    {
        using var folder = new TokenizerFolder();
        LlamaStyleFiles.WriteSentencePieceStyle(folder.Path);
        JsonNode root = JsonNode.Parse(File.ReadAllText(folder.File("tokenizer.json")))!;
        root[key] = JsonNode.Parse(json);
        folder.Write("tokenizer.json", root.ToJsonString());

        var error = Assert.Throws<FloverException>(() => TokenizerLoader.FromFolder(folder.Path));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("tokenizer.json", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("""{"bos_token": "<nope>"}""", "'bos_token' is '<nope>'")]
    [InlineData("""{"eos_token": 7}""", "'eos_token' must be a string")]
    [InlineData("""{"chat_template": 7}""", "'chat_template' must be a string")]
    [InlineData("""{"bos_token": """, "tokenizer_config.json: cannot read it")]
    public void A_bad_tokenizer_config_fails_naming_the_file_and_key(string config, string expected)
    {
        using var folder = new TokenizerFolder();
        LlamaStyleFiles.WriteSentencePieceStyle(folder.Path);
        folder.Write("tokenizer_config.json", config);

        var error = Assert.Throws<FloverException>(() => HuggingFaceTokenizer.FromFolder(folder.Path));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("tokenizer_config.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chat_template_is_read_from_a_string_or_the_default_of_a_list()
    {
        using var folder = new TokenizerFolder();
        LlamaStyleFiles.WriteSentencePieceStyle(folder.Path);
        folder.Write("tokenizer_config.json", """{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}""");
        HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.FromFolder(folder.Path);
        Assert.Equal("D", tokenizer.ChatTemplate);
        Assert.Null(tokenizer.BosTokenId);
        Assert.False(tokenizer.AddsBosToken);
    }
}
