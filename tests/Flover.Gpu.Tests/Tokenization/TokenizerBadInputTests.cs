using Flover.Gpu.Tokenization;

namespace Flover.Gpu.Tests.Tokenization;

public sealed class TokenizerBadInputTests : IDisposable
{
    private readonly TokenizerFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_folder_without_tokenizer_files_names_the_folder_and_the_files_it_needs()
    {
        string message = FolderError();

        Assert.Contains(_folder.Path, message, StringComparison.Ordinal);
        Assert.Contains("vocab.json", message, StringComparison.Ordinal);
        Assert.Contains("merges.txt", message, StringComparison.Ordinal);
        Assert.Contains("tokenizer.json", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_with_vocab_but_no_merges_says_merges_are_missing()
    {
        _folder.WriteTiny([], []);
        File.Delete(_folder.File("merges.txt"));

        Assert.Contains("missing: merges.txt", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void Vocab_that_is_not_JSON_names_the_file()
    {
        _folder.WriteTiny([], []);
        _folder.Write("vocab.json", "{\"a\": 1,");

        string message = FolderError();

        Assert.Contains(_folder.File("vocab.json"), message, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Vocab_that_is_an_array_says_it_must_be_an_object()
    {
        _folder.WriteTiny([], []);
        _folder.Write("vocab.json", "[1, 2]");

        Assert.Contains("must be a JSON object mapping each token to its id", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_vocab_id_that_is_not_an_integer_names_the_token()
    {
        _folder.WriteTiny([], []);
        _folder.Write("vocab.json", "{\"a\": 0, \"b\": \"one\"}");

        Assert.Contains("the id of token 'b' in the file is \"one\"", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void Two_tokens_with_one_id_are_both_named()
    {
        _folder.WriteTiny([], []);
        _folder.Write("vocab.json", "{\"a\": 0, \"b\": 0}");

        Assert.Contains("tokens 'a' and 'b' in the file both have id 0", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_merges_line_with_three_tokens_names_the_file_and_line()
    {
        _folder.WriteTiny(["ab"], ["a b", "a b c"]);

        string message = FolderError();

        Assert.Contains(_folder.File("merges.txt"), message, StringComparison.Ordinal);
        Assert.Contains("line 3 is 'a b c'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_merge_of_an_unknown_token_names_the_merge_and_the_token()
    {
        _folder.WriteTiny(["ab"], ["a b", "ab Ω"]);

        Assert.Contains("line 3 merge 'ab Ω' uses 'Ω', which is not in the vocabulary", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_merge_whose_result_is_not_a_token_names_the_result()
    {
        _folder.WriteTiny([], ["a b"]);

        Assert.Contains("line 2 merge 'a b' makes 'ab', which is not in the vocabulary", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_vocabulary_without_every_byte_names_the_missing_byte()
    {
        _folder.WriteTiny([], []);
        string vocab = File.ReadAllText(_folder.File("vocab.json")).Replace("\"A\":65,", string.Empty, StringComparison.Ordinal);
        _folder.Write("vocab.json", vocab);

        Assert.Contains("has no token 'A' for byte 0x41", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_outside_the_byte_level_alphabet_is_named()
    {
        _folder.WriteTiny(["▁the"], []);

        Assert.Contains("token '▁the' (id 256) contains U+2581", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_vocabulary_without_endoftext_says_so()
    {
        _folder.WriteTiny([], []);
        string vocab = File.ReadAllText(_folder.File("vocab.json")).Replace(",\"<|endoftext|>\":256", string.Empty, StringComparison.Ordinal);
        _folder.Write("vocab.json", vocab);

        Assert.Contains("has no '<|endoftext|>' token", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void Merges_that_are_not_UTF8_name_the_file()
    {
        _folder.WriteTiny([], []);
        _folder.Write("merges.txt", [0x23, 0xFF, 0xFE, 0x0A]);

        Assert.Contains(_folder.File("merges.txt") + ": is not valid UTF-8", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_tokenizer_json_with_another_model_type_is_refused_by_name()
    {
        _folder.Write("tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");

        Assert.Contains("model type 'WordPiece' is not supported", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_tokenizer_json_without_a_model_says_so()
    {
        _folder.Write("tokenizer.json", "{\"version\": \"1.0\"}");

        Assert.Contains("has no 'model' object", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_tokenizer_json_merge_of_the_wrong_shape_names_its_index()
    {
        _folder.Write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\", [\"a\"]]}}");

        Assert.Contains("model.merges[1] is [\"a\"]", FolderError(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_tokenizer_json_special_token_without_an_id_names_it()
    {
        _folder.Write("tokenizer.json", "{\"added_tokens\": [{\"content\": \"<|x|>\", \"special\": true}], \"model\": {\"vocab\": {\"a\": 0}, \"merges\": []}}");

        Assert.Contains("added_tokens[0] needs a non-empty string 'content' and a non-negative integer 'id'", FolderError(), StringComparison.Ordinal);
    }

    private string FolderError() => Assert.Throws<FloverException>(() => Gpt2Tokenizer.FromFolder(_folder.Path)).Message;
}
