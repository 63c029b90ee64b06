namespace Flover.Host.Cli;

/// <summary>
/// The three standard streams a command uses. Commands never touch <see cref="Console"/>
/// directly, so tests run them in-process with captured streams.
/// </summary>
/// <param name="In">Standard input (text for <c>tokenize</c>, ids for <c>detokenize</c>).</param>
/// <param name="Out">Standard output: results only (with <c>--json</c>, nothing but the JSON).</param>
/// <param name="Error">Standard error: logs, progress and error messages.</param>
internal sealed record CliConsole(TextReader In, TextWriter Out, TextWriter Error)
{
    /// <summary>Whether standard output is a terminal (a person reads it) rather than a pipe or file (a program does).</summary>
    public bool OutIsTerminal { get; init; }

    /// <summary>The process's own streams (UTF-8 on every platform).</summary>
    public static CliConsole System
    {
        get
        {
            Console.InputEncoding = new global::System.Text.UTF8Encoding(false);
            Console.OutputEncoding = new global::System.Text.UTF8Encoding(false);
            TextWriter results = Console.Out;
            // Standard output carries a command's results only, through this console's Out. Libraries
            // that print to Console.Out themselves go to stderr with the logs: Akka, once its loggers
            // have stopped during a shutdown, prints what it still logs with its standard-out logger,
            // which put an INFO line after serve's ready line under load.
            Console.SetOut(Console.Error);
            return new CliConsole(Console.In, results, Console.Error) { OutIsTerminal = !Console.IsOutputRedirected };
        }
    }
}
