using System.CommandLine;

namespace Flover.Host.Cli;

/// <summary>Options shared by several commands, so every command spells them the same way.</summary>
internal static class CommonOptions
{
    /// <summary><c>--verbose</c>: show stack traces with errors. Accepted on every command.</summary>
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Show stack traces and details with errors.",
        Recursive = true,
    };

    /// <summary>Creates <c>--json</c>: stdout then holds only JSON; logs and progress go to stderr.</summary>
    public static Option<bool> Json() => new("--json")
    {
        Description = "Write only JSON to stdout (logs and progress go to stderr).",
    };

    /// <summary>Creates <c>--model DIR|NAME</c>: a Hugging Face folder or a model in the local Hugging Face cache.</summary>
    public static Option<string?> Model() => new("--model", "-m")
    {
        Description = "A Hugging Face GPT-2 folder, or a model name in the local Hugging Face cache (never downloaded).",
    };

    /// <summary>Creates <c>--preset NAME</c>: built-in shapes with seeded random weights.</summary>
    public static Option<string?> Preset(bool llama = false) => new("--preset")
    {
        Description = llama
            ? "A built-in model shape with seeded random weights: tiny, gpt2, gpt2-medium, gptj-6b (GPT-2), llama-tiny, tinyllama-1.1b, llama-3-8b (LLaMA)."
            : "A built-in model shape with seeded random weights: tiny, gpt2, gpt2-medium, gptj-6b (meaningless text).",
    };
}
