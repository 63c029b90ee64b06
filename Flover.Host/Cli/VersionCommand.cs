using System.CommandLine;
using System.Reflection;

namespace Flover.Host.Cli;

/// <summary><c>flover version</c>: prints the informational version of the executable.</summary>
internal static class VersionCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("version", "Print Flover's version.");
        command.SetAction(_ =>
        {
            string version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            console.Out.WriteLine($"flover {version}");
            return 0;
        });
        return command;
    }
}
