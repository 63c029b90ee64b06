using System.CommandLine;
using Flover.Gpu;

namespace Flover.Host.Cli;

/// <summary>
/// The <c>flover</c> command line: builds the command tree and runs one invocation, turning
/// user errors into one line on stderr and a non-zero exit code.
/// </summary>
internal static class FloverCli
{
    /// <summary>Exit code for a user error (bad flag, bad checkpoint, bad input).</summary>
    public const int UserErrorExitCode = 1;

    /// <summary>Exit code for a bug: an exception that is neither a <see cref="FloverException"/> nor a configuration error.</summary>
    public const int InternalErrorExitCode = 70;

    /// <summary>Parses <paramref name="args"/> and runs the chosen command against <paramref name="console"/>.</summary>
    public static int Run(string[] args, CliConsole console)
    {
        RootCommand root = BuildRoot(console);
        ParseResult parse = root.Parse(args);
        bool verbose = parse.GetValue(CommonOptions.Verbose);
        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                Output = console.Out,
                Error = console.Error,
                // We report exceptions ourselves: one line for user errors, a stack only with --verbose.
                EnableDefaultExceptionHandler = false,
            });
        }
        catch (Exception exception)
        {
            return Report(exception, verbose, console.Error);
        }
    }

    private static RootCommand BuildRoot(CliConsole console)
    {
        var root = new RootCommand("Flover: a temporal-fusion inference service for GPT-style models.");
        root.Options.Add(CommonOptions.Verbose);
        foreach (Command command in CommandCatalog.Create(console))
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    private static int Report(Exception exception, bool verbose, TextWriter error)
    {
        Exception shown = exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : exception;
        if (shown is FloverException or Configuration.ConfigurationException)
        {
            error.WriteLine($"error: {shown.Message}");
            if (verbose)
            {
                error.WriteLine(shown.ToString());
            }

            return UserErrorExitCode;
        }

        error.WriteLine($"internal error: {shown.GetType().Name}: {shown.Message}{(verbose ? string.Empty : " (run with --verbose for details)")}");
        if (verbose)
        {
            error.WriteLine(shown.ToString());
        }

        return InternalErrorExitCode;
    }
}
