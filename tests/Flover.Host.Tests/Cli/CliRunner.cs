using Flover.Host.Cli;

namespace Flover.Host.Tests.Cli;

/// <summary>Runs the <c>flover</c> CLI in-process with captured streams.</summary>
internal static class CliRunner
{
    public static CliResult RunWithInput(string stdin, params string[] args) => RunWithInput(stdin, outIsTerminal: false, args);

    /// <summary>Runs with standard output taken for a terminal (<paramref name="outIsTerminal"/>) or a pipe.</summary>
    public static CliResult RunWithInput(string stdin, bool outIsTerminal, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = FloverCli.Run(args, new CliConsole(new StringReader(stdin), output, error) { OutIsTerminal = outIsTerminal });
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    public static CliResult Run(params string[] args) => RunWithInput(string.Empty, args);
}

/// <summary>The exit code and captured output of one CLI run.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr);
