using System.CommandLine;
using Flover.Gpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;
using Flover.Gpu.Tokenization;

namespace Flover.Host.Cli;

/// <summary>The <c>--model</c>/<c>--preset</c> pair of a command that needs only a tokenizer.</summary>
internal sealed class TokenizerOptions
{
    private readonly Option<string?> _model = CommonOptions.Model();
    private readonly Option<string?> _preset = CommonOptions.Preset();

    /// <summary>Adds both options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_model);
        command.Options.Add(_preset);
    }

    /// <summary>
    /// Loads the tokenizer the parsed options name: the files of the <c>--model</c> folder (or
    /// cached model), or GPT-2's embedded tokenizer for any <c>--preset</c>.
    /// </summary>
    /// <exception cref="FloverException">Neither or both options are given, or the tokenizer cannot be loaded.</exception>
    public Gpt2Tokenizer Load(ParseResult parse, string commandName)
    {
        string? model = parse.GetValue(_model);
        string? preset = parse.GetValue(_preset);
        if (model is not null && preset is not null)
        {
            throw new FloverException($"{commandName}: give either --model or --preset, not both.");
        }

        if (model is not null)
        {
            return Gpt2Tokenizer.FromFolder(ModelLocator.Resolve(model));
        }

        if (preset is not null)
        {
            _ = Gpt2Presets.ConfigOf(preset);
            return Gpt2Tokenizer.Default;
        }

        throw new FloverException($"{commandName}: say which tokenizer to use with --model DIR|NAME or --preset NAME ({string.Join(", ", Gpt2Presets.Names)}).");
    }
}
