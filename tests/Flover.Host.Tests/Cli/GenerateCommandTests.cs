using System.Text.Json;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;
using Flover.Gpu.Tests.Checkpoints;
using Flover.Gpu.Tokenization;
using Flover.Host.Cli;

namespace Flover.Host.Tests.Cli;

public sealed class GenerateCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("flover-cli-generate-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A tiny GPT-2 with GPT-2's vocabulary, written as a Hugging Face folder (with or without tokenizer files).</summary>
    private string WriteModelFolder(bool withTokenizer)
    {
        Gpt2Config config = TestCheckpoint.Config with { VocabularySize = 50257, BosTokenId = 50256, EosTokenId = 50256 };
        TestCheckpoint.Write(_folder, TestCheckpoint.Weights(config, TensorDType.F16), TestCheckpoint.ConfigJson(config));
        if (withTokenizer)
        {
            TokenizeCommandTests.WriteGpt2Files(_folder);
        }

        return _folder;
    }

    [Fact]
    public void Generate_runs_a_Hugging_Face_folder_with_its_own_tokenizer()
    {
        string folder = WriteModelFolder(withTokenizer: true);

        JsonElement root = Json(CliRunner.Run("generate", "--model", folder, "--prompt", "Hello", "--max-tokens", "3", "--temperature", "0", "--ignore-eos", "--json"));

        int[] ids = Ids(root);
        Assert.Equal(3, ids.Length);
        Assert.Equal(Gpt2Tokenizer.Default.Decode(ids), root.GetProperty("text").GetString());
    }

    [Fact]
    public void A_model_folder_without_tokenizer_files_is_rejected_naming_the_folder()
    {
        string folder = WriteModelFolder(withTokenizer: false);

        CliResult result = CliRunner.Run("generate", "--model", folder, "--prompt", "Hello", "--max-tokens", "3");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"No tokenizer in {folder}", result.Stderr, StringComparison.Ordinal);
    }
    private static JsonElement Json(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    private static int[] Ids(JsonElement root) => [.. root.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32())];

    [Fact]
    public void Json_output_holds_the_generated_ids_their_text_and_the_finish_reason()
    {
        JsonElement root = Json(CliRunner.Run("generate", "--preset", "tiny", "--prompt", "Hello, world", "--max-tokens", "6", "--seed", "3", "--json"));

        int[] ids = Ids(root);
        Assert.Equal(6, ids.Length);
        Assert.Equal(Gpt2Tokenizer.Default.Decode(ids), root.GetProperty("text").GetString());
        Assert.Equal("length", root.GetProperty("finish_reason").GetString());
        Assert.False(root.TryGetProperty("logprobs", out _));
    }

    [Fact]
    public void Half_precision_weights_from_the_flag_or_the_configuration_generate_the_same_tokens()
    {
        string[] common = ["generate", "--preset", "tiny", "--prompt", "Hello, world", "--max-tokens", "5", "--temperature", "0", "--ignore-eos", "--json"];

        int[] flag = Ids(Json(CliRunner.Run([.. common, "--dtype", "bf16"])));
        int[] configured = Ids(Json(CliRunner.Run([.. common, "--set", "flover.engine.weight-dtype=bf16"])));
        CliResult bad = CliRunner.Run([.. common, "--dtype", "int4"]);

        Assert.Equal(5, flag.Length);
        Assert.Equal(flag, configured);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("'int4'", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_16_bit_kv_cache_from_the_configuration_generates_and_the_start_up_line_names_it()
    {
        string[] common = ["generate", "--preset", "tiny", "--prompt", "Hello, world", "--max-tokens", "5", "--temperature", "0", "--ignore-eos", "--json"];

        CliResult half = CliRunner.Run([.. common, "--set", "flover.engine.kv-dtype=f16"]);
        CliResult bad = CliRunner.Run([.. common, "--set", "flover.engine.kv-dtype=f8"]);

        Assert.Equal(5, Ids(Json(half)).Length);
        Assert.Contains("positions in f16", half.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("setting 'flover.engine.kv-dtype' must be one of f32, f16, bf16 but is 'f8'", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Tensor_parallel_shards_generate_the_greedy_tokens_of_the_whole_model_and_a_bad_count_is_refused()
    {
        string[] common = ["generate", "--preset", "tiny", "--prompt", "Once upon a time", "--max-tokens", "6", "--temperature", "0", "--ignore-eos", "--json", "--threads", "2"];

        int[] whole = Ids(Json(CliRunner.Run(common)));
        int[] split = Ids(Json(CliRunner.Run([.. common, "--tensor-parallel", "3"])));
        int[] configured = Ids(Json(CliRunner.Run([.. common, "--set", "flover.parallel.tensor=2"])));
        CliResult bad = CliRunner.Run([.. common, "--tensor-parallel", "5"]);

        Assert.Equal(whole, split);
        Assert.Equal(whole, configured);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("12 attention heads cannot be split evenly over 5", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_seed_generates_the_same_tokens_and_another_seed_other_tokens()
    {
        string[] args = ["generate", "--preset", "tiny", "--token-ids", "15496,11,995", "--max-tokens", "8", "--json", "--seed"];

        int[] first = Ids(Json(CliRunner.Run([.. args, "42"])));
        int[] again = Ids(Json(CliRunner.Run([.. args, "42", "--threads", "1"])));
        int[] other = Ids(Json(CliRunner.Run([.. args, "43"])));

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Logprobs_report_every_token_with_its_top_alternatives_best_first()
    {
        JsonElement root = Json(CliRunner.Run("generate", "--preset", "tiny", "--prompt", "The", "--max-tokens", "4", "--seed", "1", "--logprobs", "3", "--json"));

        JsonElement[] entries = [.. root.GetProperty("logprobs").EnumerateArray()];
        Assert.Equal(Ids(root), entries.Select(e => e.GetProperty("token_id").GetInt32()));
        foreach (JsonElement entry in entries)
        {
            double[] top = [.. entry.GetProperty("top").EnumerateArray().Select(t => t.GetProperty("logprob").GetDouble())];
            Assert.Equal(3, top.Length);
            Assert.Equal(top.OrderDescending(), top);
            Assert.InRange(entry.GetProperty("logprob").GetDouble(), double.NegativeInfinity, top[0]);
        }
    }

    [Fact]
    public void Greedy_generation_is_the_same_at_every_thread_count()
    {
        string[] args = ["generate", "--preset", "tiny", "--prompt", "Once upon a time", "--max-tokens", "5", "--temperature", "0", "--json", "--threads"];

        Assert.Equal(Ids(Json(CliRunner.Run([.. args, "1"]))), Ids(Json(CliRunner.Run([.. args, "3"]))));
    }

    [Fact]
    public void Text_mode_writes_the_generated_text_to_stdout()
    {
        CliResult text = CliRunner.Run("generate", "--preset", "tiny", "--prompt", "Hi", "--max-tokens", "5", "--seed", "9");
        JsonElement json = Json(CliRunner.Run("generate", "--preset", "tiny", "--prompt", "Hi", "--max-tokens", "5", "--seed", "9", "--json"));

        Assert.Equal(0, text.ExitCode);
        Assert.Equal(json.GetProperty("text").GetString() + Environment.NewLine, text.Stdout);
        Assert.Contains("finish: length", text.Stderr, StringComparison.Ordinal);
        Assert.Contains("seed 9", text.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Giving_both_a_prompt_and_token_ids_is_rejected()
    {
        CliResult result = CliRunner.Run("generate", "--preset", "tiny", "--prompt", "a", "--token-ids", "1", "--max-tokens", "1");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("exactly one of --prompt TEXT or --token-ids", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_id_outside_the_vocabulary_is_rejected_naming_it()
    {
        CliResult result = CliRunner.Run("generate", "--preset", "tiny", "--token-ids", "1,50257", "--max-tokens", "1");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("50257 is outside the model's vocabulary of 50257 tokens", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_prompt_longer_than_the_model_positions_is_rejected()
    {
        string ids = string.Join(",", Enumerable.Repeat(11, 256));

        CliResult result = CliRunner.Run("generate", "--preset", "tiny", "--token-ids", ids, "--max-tokens", "1");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("The prompt has 256 tokens", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_sampling_value_is_rejected_naming_it()
    {
        CliResult result = CliRunner.Run("generate", "--preset", "tiny", "--prompt", "a", "--max-tokens", "2", "--top-p", "1.5");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("top-p must lie in (0, 1], not 1.5", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(FinishReason.Length, "length")]
    [InlineData(FinishReason.Eos, "stop")]
    [InlineData(FinishReason.StopSequence, "stop")]
    public void Finish_reasons_are_reported_as_the_api_names_them(FinishReason finish, string name)
    {
        Assert.Equal(name, GenerateOutput.FinishName(finish));
    }
}
