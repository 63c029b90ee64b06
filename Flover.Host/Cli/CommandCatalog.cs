using System.CommandLine;

namespace Flover.Host.Cli;

/// <summary>Every top-level <c>flover</c> command, in the order <c>--help</c> lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> Create(CliConsole console)
    {
        // One line per command; each command lives in its own file under Cli/.
        yield return VersionCommand.Create(console);
        yield return InfoCommand.Create(console);
        yield return ConfigCommand.Create(console);
        yield return TokenizeCommand.Create(console);
        yield return DetokenizeCommand.Create(console);
        yield return BenchDecodeCommand.Create(console);
        yield return BenchKernelsCommand.Create(console);
        yield return BenchCollectivesCommand.Create(console);
        yield return BenchCommand.Create(console);
        yield return GenerateCommand.Create(console);
        yield return ServeCommand.Create(console);
        yield return NodeCommand.Create(console);
    }
}
