using Flover.Gpu.Tokenization;

namespace Flover.Host.Tests.Cli;

public sealed class TokenizeCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("flover-cli-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Tokenize_with_a_preset_prints_space_separated_ids()
    {
        CliResult result = CliRunner.RunWithInput("Hello world", "tokenize", "--preset", "gpt2");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("15496 995" + Environment.NewLine, result.Stdout);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public void Tokenize_with_json_prints_only_a_JSON_array()
    {
        CliResult result = CliRunner.RunWithInput("Hello world", "tokenize", "--preset", "tiny", "--json");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("[15496,995]" + Environment.NewLine, result.Stdout);
    }

    [Fact]
    public void Tokenize_encodes_stdin_exactly_including_the_trailing_newline()
    {
        CliResult result = CliRunner.RunWithInput("Hello world\n", "tokenize", "--preset", "gpt2");

        Assert.Equal("15496 995 198" + Environment.NewLine, result.Stdout);
    }

    [Fact]
    public void Tokenize_of_empty_input_prints_an_empty_list()
    {
        CliResult result = CliRunner.RunWithInput(string.Empty, "tokenize", "--preset", "gpt2", "--json");

        Assert.Equal("[]" + Environment.NewLine, result.Stdout);
    }

    [Fact]
    public void Literal_endoftext_is_plain_text_unless_special_tokens_are_allowed()
    {
        CliResult plain = CliRunner.RunWithInput("<|endoftext|>", "tokenize", "--preset", "gpt2");
        CliResult special = CliRunner.RunWithInput("<|endoftext|>", "tokenize", "--preset", "gpt2", "--allow-special");

        Assert.Equal("27 91 437 1659 5239 91 29" + Environment.NewLine, plain.Stdout);
        Assert.Equal("50256" + Environment.NewLine, special.Stdout);
    }

    [Fact]
    public void Tokenize_with_a_model_folder_reads_its_vocab_and_merges()
    {
        WriteGpt2Files(_folder);

        CliResult result = CliRunner.RunWithInput(" Hello world", "tokenize", "--model", _folder);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("18435 995" + Environment.NewLine, result.Stdout);
    }

    [Fact]
    public void A_model_folder_without_tokenizer_files_fails_naming_the_folder()
    {
        CliResult result = CliRunner.RunWithInput("x", "tokenize", "--model", _folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.StartsWith($"error: No tokenizer in {_folder}", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_that_is_neither_folder_nor_cached_fails_naming_it()
    {
        CliResult result = CliRunner.RunWithInput("x", "tokenize", "--model", "no-such-org/no-such-model-flover-test");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Model 'no-such-org/no-such-model-flover-test'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_preset_fails_listing_the_presets()
    {
        CliResult result = CliRunner.RunWithInput("x", "tokenize", "--preset", "huge");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: Unknown preset 'huge'; valid presets: tiny, gpt2, gpt2-medium, gptj-6b." + Environment.NewLine, result.Stderr);
    }

    [Fact]
    public void Tokenize_without_model_or_preset_says_how_to_choose_one()
    {
        CliResult result = CliRunner.RunWithInput("x", "tokenize");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("tokenize: say which tokenizer to use with --model DIR|NAME or --preset NAME", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokenize_with_both_model_and_preset_is_refused()
    {
        CliResult result = CliRunner.RunWithInput("x", "tokenize", "--preset", "gpt2", "--model", _folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("give either --model or --preset, not both", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stats_go_to_stderr_and_leave_stdout_unchanged()
    {
        CliResult result = CliRunner.RunWithInput("Hello world", "tokenize", "--preset", "gpt2", "--json", "--stats");

        Assert.Equal("[15496,995]" + Environment.NewLine, result.Stdout);
        Assert.Contains("11 chars (11 UTF-8 bytes) -> 2 tokens in ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("tokens/s", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokenize_then_detokenize_gives_the_input_back_byte_for_byte()
    {
        const string Text = "Héllo, 世界! 👨‍👩‍👧 don't\r\n\ttabs  and   spaces \U0001d400\n";

        CliResult ids = CliRunner.RunWithInput(Text, "tokenize", "--preset", "gpt2");
        CliResult text = CliRunner.RunWithInput(ids.Stdout, "detokenize", "--preset", "gpt2");

        Assert.Equal(0, text.ExitCode);
        Assert.Equal(Text, text.Stdout);
    }

    internal static void WriteGpt2Files(string folder)
    {
        foreach (string name in new[] { Gpt2Tokenizer.VocabFileName, Gpt2Tokenizer.MergesFileName })
        {
            using Stream resource = typeof(Gpt2Tokenizer).Assembly.GetManifestResourceStream("Flover.Gpu.Tokenization.Data." + name)!;
            using FileStream file = File.Create(Path.Combine(folder, name));
            resource.CopyTo(file);
        }
    }
}
