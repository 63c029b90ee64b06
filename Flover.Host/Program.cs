using Flover.Host.Cli;

namespace Flover.Host;

internal static class Program
{
    public static int Main(string[] args) => FloverCli.Run(args, CliConsole.System);
}
