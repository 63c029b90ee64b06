using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Flover.Gpu.Tokenization;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover tokenize (--model DIR|NAME | --preset NAME) [--json] [--allow-special] [--stats]</c>:
/// UTF-8 text on stdin (all of it, trailing newline included), token ids on stdout.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create(CliConsole console)
    {
        var tokenizerOptions = new TokenizerOptions();
        Option<bool> json = CommonOptions.Json();
        var allowSpecial = new Option<bool>("--allow-special")
        {
            Description = "Turn text that spells a special token (<|endoftext|>) into its id; by default it is encoded as plain characters.",
        };
        var stats = new Option<bool>("--stats")
        {
            Description = "Print the number of tokens and the encoding speed to stderr.",
        };
        var command = new Command("tokenize", "Encode UTF-8 text from stdin (exactly as given, trailing newline included) into token ids: space-separated, or a JSON array with --json.");
        tokenizerOptions.AddTo(command);
        command.Options.Add(json);
        command.Options.Add(allowSpecial);
        command.Options.Add(stats);
        command.SetAction(parse =>
        {
            long loadStart = Stopwatch.GetTimestamp();
            Gpt2Tokenizer tokenizer = tokenizerOptions.Load(parse, "tokenize");
            TimeSpan loadTime = Stopwatch.GetElapsedTime(loadStart);
            string text = console.In.ReadToEnd();

            long encodeStart = Stopwatch.GetTimestamp();
            int[] ids = tokenizer.Encode(text, parse.GetValue(allowSpecial));
            TimeSpan encodeTime = Stopwatch.GetElapsedTime(encodeStart);

            console.Out.WriteLine(parse.GetValue(json) ? $"[{string.Join(',', ids)}]" : string.Join(' ', ids));
            if (parse.GetValue(stats))
            {
                WriteStats(console.Error, text, ids.Length, loadTime, encodeTime);
            }

            return 0;
        });
        return command;
    }

    private static void WriteStats(TextWriter error, string text, int tokens, TimeSpan loadTime, TimeSpan encodeTime)
    {
        double seconds = Math.Max(encodeTime.TotalSeconds, 1e-9);
        int bytes = Encoding.UTF8.GetByteCount(text);
        error.WriteLine(FormattableString.Invariant(
            $"{text.Length} chars ({bytes} UTF-8 bytes) -> {tokens} tokens in {encodeTime.TotalMilliseconds:F1} ms: {tokens / seconds:F0} tokens/s, {bytes / seconds / 1e6:F2} MB/s (tokenizer loaded in {loadTime.TotalMilliseconds:F1} ms)"));
    }
}
