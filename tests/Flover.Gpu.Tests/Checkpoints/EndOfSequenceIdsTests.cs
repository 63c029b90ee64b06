using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Tests.Checkpoints;

/// <summary>The end-of-sequence ids of a folder: config.json's and generation_config.json's, numbers or lists.</summary>
public sealed class EndOfSequenceIdsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("flover-eos-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Both_files_ids_count_config_first_each_once()
    {
        // Llama 3 Instruct: config.json names <|end_of_text|>, generation_config.json adds <|eom_id|> and <|eot_id|>.
        Write("config.json", """{"eos_token_id": 128001}""");
        Write("generation_config.json", """{"bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009]}""");

        Assert.Equal([128001, 128008, 128009], EndOfSequenceIds.Read(_folder, 128256));
    }

    [Fact]
    public void Without_generation_config_a_config_list_gives_all_its_ids_and_no_key_gives_none()
    {
        Write("config.json", """{"eos_token_id": [2, 32000]}""");
        Assert.Equal([2, 32000], EndOfSequenceIds.Read(_folder, 32001));

        Write("config.json", """{"eos_token_id": null}""");
        Assert.Empty(EndOfSequenceIds.Read(_folder, 32001));
    }

    [Theory]
    [InlineData("""{"eos_token_id": [2, 40000]}""", "key 'eos_token_id' is [2, 40000]: 40000 is outside the vocabulary (vocab_size 32000).")]
    [InlineData("""{"eos_token_id": [2, "</s>"]}""", "key 'eos_token_id' is [2, \"</s>\"]")]
    [InlineData("""{"eos_token_id": 2""", "")]
    public void A_bad_generation_config_is_one_line_naming_the_file(string json, string problem)
    {
        Write("config.json", """{"eos_token_id": 2}""");
        Write("generation_config.json", json);

        var error = Assert.Throws<FloverException>(() => EndOfSequenceIds.Read(_folder, 32000));

        Assert.StartsWith($"{Path.Combine(_folder, "generation_config.json")}: {problem}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    private void Write(string name, string json) => File.WriteAllText(Path.Combine(_folder, name), json);
}
