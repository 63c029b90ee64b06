using Flover.Gpu;

namespace Flover.Host.Cli;

/// <summary>
/// The names <c>--preset</c> accepts. Every preset uses GPT-2's real tokenizer, so commands that
/// need only the tokenizer (tokenize, detokenize) check the name here and load
/// <see cref="Flover.Gpu.Tokenization.Gpt2Tokenizer.Default"/>.
/// </summary>
internal static class PresetNames
{
    /// <summary>The presets, smallest first.</summary>
    public static readonly IReadOnlyList<string> All = ["tiny", "gpt2", "gpt2-medium"];

    /// <summary>Returns <paramref name="name"/> when it names a preset.</summary>
    /// <exception cref="FloverException">It does not; the message lists the presets.</exception>
    public static string Validate(string name) =>
        All.Contains(name, StringComparer.Ordinal)
            ? name
            : throw new FloverException($"Unknown preset '{name}'; the presets are {string.Join(", ", All)}.");
}
