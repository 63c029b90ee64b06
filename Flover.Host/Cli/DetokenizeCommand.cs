using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Flover.Gpu.Tokenization;

namespace Flover.Host.Cli;

/// <summary>
/// <c>flover detokenize (--model DIR|NAME | --preset NAME) [--json]</c>: token ids on stdin, the
/// text they decode to on stdout (exactly, with no newline added; a JSON string with --json).
/// </summary>
internal static class DetokenizeCommand
{
    /// <summary>Non-ASCII text stays readable in the JSON string (stdout is UTF-8).</summary>
    private static readonly JsonSerializerOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create(CliConsole console)
    {
        var tokenizerOptions = new TokenizerOptions();
        Option<bool> json = CommonOptions.Json();
        var command = new Command("detokenize", "Decode token ids from stdin (space- or comma-separated, or a JSON array) into text, written exactly as decoded to a pipe or file (on a terminal, a final newline is added when the text has none).");
        tokenizerOptions.AddTo(command);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            Gpt2Tokenizer tokenizer = tokenizerOptions.Load(parse, "detokenize");
            int[] ids = TokenIdListParser.Parse(console.In.ReadToEnd());
            string text = tokenizer.Decode(ids);
            if (parse.GetValue(json))
            {
                console.Out.WriteLine(JsonSerializer.Serialize(text, s_json));
            }
            else
            {
                console.Out.Write(text);
                if (console.OutIsTerminal && text.Length > 0 && !text.EndsWith('\n'))
                {
                    // A person at a terminal gets the prompt back on its own line; a pipe or file
                    // gets exactly the decoded bytes (scripts compare and concatenate them).
                    console.Out.WriteLine();
                }
            }

            return 0;
        });
        return command;
    }
}
