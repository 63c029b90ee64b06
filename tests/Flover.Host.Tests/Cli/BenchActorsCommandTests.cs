using System.Text.Json;

namespace Flover.Host.Tests.Cli;

public sealed class BenchActorsCommandTests
{
    [Fact]
    public void Json_output_holds_every_measurement_and_nothing_else_on_stdout()
    {
        CliResult result = CliRunner.Run("bench-actors", "--messages", "2000", "--asks", "50", "--actors", "50", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        foreach (string key in new[] { "one_sender_messages_per_second", "four_senders_messages_per_second", "ask_median_microseconds", "ask_p99_microseconds", "actors_created_per_second", "bytes_per_idle_actor" })
        {
            Assert.True(json.RootElement.GetProperty(key).GetDouble() > 0 || key == "bytes_per_idle_actor", key);
        }
    }

    [Fact]
    public void A_non_positive_count_is_refused_naming_the_flag()
    {
        CliResult result = CliRunner.Run("bench-actors", "--asks", "0");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --asks must be at least 1, not 0." + Environment.NewLine, result.Stderr);
    }
}
