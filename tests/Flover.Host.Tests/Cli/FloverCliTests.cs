using Flover.Host.Cli;

namespace Flover.Host.Tests.Cli;

public sealed class FloverCliTests
{
    [Fact]
    public void Version_prints_the_executable_name_and_exits_zero()
    {
        CliResult result = CliRunner.Run("version");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("flover ", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public void Unknown_command_fails_with_a_message_on_stderr()
    {
        CliResult result = CliRunner.Run("no-such-command");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no-such-command", result.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(FloverCli.InternalErrorExitCode, result.ExitCode);
    }
}
