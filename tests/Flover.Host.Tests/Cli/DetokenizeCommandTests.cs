namespace Flover.Host.Tests.Cli;

public sealed class DetokenizeCommandTests
{
    [Theory]
    [InlineData("15496 995")]
    [InlineData("15496,995")]
    [InlineData("15496, 995\n")]
    [InlineData("15496\n995\n")]
    [InlineData("[15496, 995]")]
    [InlineData("  [15496,995]\n")]
    public void Detokenize_accepts_spaces_commas_newlines_and_JSON_arrays(string input)
    {
        CliResult result = CliRunner.RunWithInput(input, "detokenize", "--preset", "gpt2");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("Hello world", result.Stdout);
        Assert.Empty(result.Stderr);
    }

    [Theory]
    [InlineData("15496 995", "Hello world", "Hello world\n")]
    [InlineData("15496 995 198", "Hello world\n", "Hello world\n")]
    [InlineData("\n", "", "")]
    public void To_a_pipe_the_text_is_exact_and_on_a_terminal_it_ends_with_a_newline(string ids, string toPipe, string onTerminal)
    {
        CliResult pipe = CliRunner.RunWithInput(ids, outIsTerminal: false, "detokenize", "--preset", "gpt2");
        CliResult terminal = CliRunner.RunWithInput(ids, outIsTerminal: true, "detokenize", "--preset", "gpt2");

        Assert.Equal(toPipe, pipe.Stdout);
        Assert.Equal(onTerminal, terminal.Stdout.Replace(Environment.NewLine, "\n", StringComparison.Ordinal));
    }

    [Fact]
    public void Detokenize_with_json_prints_a_JSON_string()
    {
        CliResult result = CliRunner.RunWithInput("15496 995 198", "detokenize", "--preset", "gpt2", "--json");

        Assert.Equal("\"Hello world\\n\"" + Environment.NewLine, result.Stdout);
    }

    [Fact]
    public void Detokenize_of_empty_input_prints_nothing()
    {
        CliResult result = CliRunner.RunWithInput("\n", "detokenize", "--preset", "gpt2");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public void Detokenize_writes_an_emoji_split_across_tokens_whole()
    {
        CliResult result = CliRunner.RunWithInput("47249 222", "detokenize", "--preset", "gpt2");

        Assert.Equal("😀", result.Stdout);
    }

    [Fact]
    public void A_word_among_the_ids_is_named_in_the_error()
    {
        CliResult result = CliRunner.RunWithInput("15496 abc 995", "detokenize", "--preset", "gpt2");

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.StartsWith("error: 'abc' is not a token id", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_id_is_named_in_the_error()
    {
        CliResult result = CliRunner.RunWithInput("-5", "detokenize", "--preset", "gpt2");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: '-5' is not a token id", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_id_beyond_the_vocabulary_is_named_with_the_valid_range()
    {
        CliResult result = CliRunner.RunWithInput("15496 50257", "detokenize", "--preset", "gpt2");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: Token id 50257 is not in the vocabulary of embedded GPT-2 (ids 0 to 50256)." + Environment.NewLine, result.Stderr);
    }

    [Fact]
    public void A_non_integer_in_a_JSON_array_is_named_in_the_error()
    {
        CliResult result = CliRunner.RunWithInput("[1, 2.5]", "detokenize", "--preset", "gpt2");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: '2.5' is not a token id", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_broken_JSON_array_says_it_is_not_valid_JSON()
    {
        CliResult result = CliRunner.RunWithInput("[1, 2", "detokenize", "--preset", "gpt2");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not valid JSON", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Detokenize_with_a_model_folder_uses_its_files()
    {
        string folder = Directory.CreateTempSubdirectory("flover-cli-detokenizer-").FullName;
        try
        {
            TokenizeCommandTests.WriteGpt2Files(folder);

            CliResult result = CliRunner.RunWithInput("18435 995", "detokenize", "--model", folder);

            Assert.Equal(" Hello world", result.Stdout);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
