using System.Text.Json;

namespace Flover.Host.Tests.Cli;

public sealed class BenchCollectivesCommandTests
{
    [Fact]
    public void Every_path_is_timed_for_every_group_and_size()
    {
        CliResult result = CliRunner.Run("bench-collectives", "--ranks", "2,3", "--elements", "5,768", "--iterations", "3", "--json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement[] timings = [.. document.RootElement.EnumerateArray()];
        Assert.Equal(
            [.. from ranks in new[] { 2, 3 } from path in new[] { "in-process", "tcp", "tcp+tls", "akka-remote" } from elements in new[] { 5, 768 } select $"{ranks} {path} {elements}"],
            timings.Select(t => $"{t.GetProperty("ranks").GetInt32()} {t.GetProperty("path").GetString()} {t.GetProperty("elements").GetInt32()}"));
        Assert.All(timings, t => Assert.True(t.GetProperty("median_microseconds").GetDouble() > 0 && t.GetProperty("gigabytes_per_second").GetDouble() > 0));
    }

    [Fact]
    public void A_group_of_one_is_refused_in_one_line()
    {
        CliResult result = CliRunner.Run("bench-collectives", "--ranks", "1");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --ranks takes group sizes of 2 or more.", result.Stderr.Trim());
    }
}
