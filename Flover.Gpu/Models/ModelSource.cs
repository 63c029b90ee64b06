using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models;

/// <summary>
/// The one way commands obtain weights: from <c>--model</c> (a Hugging Face folder, or a model in
/// the local Hugging Face cache) or from <c>--preset</c> (seeded random weights).
/// </summary>
public static class ModelSource
{
    /// <summary>
    /// Opens the weights named by exactly one of <paramref name="model"/> and <paramref name="preset"/>.
    /// Callers with a default (say, a preset for <c>serve</c>) pass it as <paramref name="preset"/>
    /// when the user gave neither.
    /// </summary>
    /// <param name="model">A folder or a Hugging Face model id (see <see cref="ModelLocator.Resolve"/>), or null.</param>
    /// <param name="preset">A name from <see cref="Gpt2Presets.Names"/>, or null.</param>
    /// <param name="environment">Reads environment variables for the cache lookup; the process environment when null.</param>
    /// <exception cref="FloverException">Both or neither given, or the model or preset cannot be opened.</exception>
    public static IModelWeights Open(string? model, string? preset, Func<string, string?>? environment = null) => Open(model, preset, deferPreset: false, environment);

    /// <summary>
    /// As <see cref="Open(string?, string?, Func{string, string?}?)"/>; with <paramref name="deferPreset"/>
    /// a GPT-2 preset opens as recipes (<see cref="PresetWeights"/>): a model on a GPU generates its
    /// tensors in device memory, and only a reader of the bytes makes the host copy. For devices
    /// other than the CPU, whose weights would otherwise be generated on the host only to be copied.
    /// </summary>
    internal static IModelWeights Open(string? model, string? preset, bool deferPreset, Func<string, string?>? environment = null)
    {
        bool hasModel = !string.IsNullOrWhiteSpace(model);
        bool hasPreset = !string.IsNullOrWhiteSpace(preset);
        if (hasModel && hasPreset)
        {
            throw new FloverException($"Give either --model or --preset, not both (got --model '{model}' and --preset '{preset}').");
        }

        if (hasPreset)
        {
            return Llama.LlamaPresets.IsPreset(preset)
                ? throw new FloverException($"preset '{preset}' is a LLaMA model; this command takes GPT-2 models ({string.Join(", ", Gpt2Presets.Names)}).")
                : deferPreset ? new PresetWeights(preset!) : Gpt2Presets.Create(preset!);
        }

        if (!hasModel)
        {
            throw new FloverException($"Give --model DIR|NAME (a Hugging Face GPT-2 folder or cached model) or --preset NAME ({string.Join(", ", Gpt2Presets.Names)}).");
        }

        // A Hugging Face id is NAME or ORG/NAME; anything else shaped like a path is a folder that is
        // not there, and saying so beats a cache miss for a 'model' no cache could hold.
        if (LooksLikePath(model!) && !Directory.Exists(model))
        {
            throw new FloverException($"{Path.GetFullPath(model!)}: no such folder (--model takes a Hugging Face GPT-2 folder or a model id such as openai-community/gpt2).");
        }

        string folder = ModelLocator.Resolve(model!, environment);
        if (ModelFamilies.Of(folder) == ModelFamily.Llama)
        {
            throw new FloverException($"{folder}: a LLaMA model (LlamaForCausalLM); in this version serve, generate and bench-decode run it, while this command takes GPT-2 models.");
        }

        return Gpt2Checkpoint.Load(folder);
    }

    /// <summary>
    /// Opens the weights of either family named by exactly one of <paramref name="model"/> and
    /// <paramref name="preset"/> (a GPT-2 or LLaMA folder or cached model, or a preset of
    /// <see cref="Gpt2Presets.Names"/> or <see cref="Llama.LlamaPresets.Names"/>). A preset is
    /// generated in <paramref name="presetDType"/>: a tool that holds the weights in one 16-bit
    /// precision only need not generate an F32 copy twice its size first.
    /// </summary>
    /// <exception cref="FloverException">Both or neither given, or the model or preset cannot be opened.</exception>
    public static AnyFamilyWeights OpenAnyFamily(string? model, string? preset, TensorDType presetDType = TensorDType.F32, Func<string, string?>? environment = null) =>
        OpenAnyFamily(model, preset, presetDType, deferPreset: false, environment);

    /// <summary>
    /// As <see cref="OpenAnyFamily(string?, string?, TensorDType, Func{string, string?}?)"/>; with
    /// <paramref name="deferPreset"/> a GPT-2 preset opens as recipes, as <see cref="Open(string?, string?, bool, Func{string, string?}?)"/> says.
    /// </summary>
    internal static AnyFamilyWeights OpenAnyFamily(string? model, string? preset, TensorDType presetDType, bool deferPreset, Func<string, string?>? environment = null)
    {
        if (string.IsNullOrWhiteSpace(model) && Llama.LlamaPresets.IsPreset(preset))
        {
            return AnyFamilyWeights.Of(Llama.LlamaPresets.Create(preset!, Gpt2Presets.DefaultSeed, presetDType));
        }

        if (string.IsNullOrWhiteSpace(model) && !string.IsNullOrWhiteSpace(preset))
        {
            return Gpt2Presets.Names.Contains(preset, StringComparer.Ordinal)
                ? AnyFamilyWeights.Of(deferPreset ? new PresetWeights(preset, Gpt2Presets.DefaultSeed, presetDType) : Gpt2Presets.Create(preset, Gpt2Presets.DefaultSeed, presetDType))
                : throw new FloverException($"Unknown preset '{preset}'; valid presets: {string.Join(", ", Gpt2Presets.Names.Concat(Llama.LlamaPresets.Names))}.");
        }

        if (!string.IsNullOrWhiteSpace(model) && string.IsNullOrWhiteSpace(preset) && (!LooksLikePath(model) || Directory.Exists(model)))
        {
            string folder = ModelLocator.Resolve(model, environment);
            if (ModelFamilies.Of(folder) == ModelFamily.Llama)
            {
                return AnyFamilyWeights.Of(Checkpoints.Llama.LlamaCheckpoint.Load(folder));
            }
        }

        // Everything else (GPT-2 folders, both or neither given, a missing folder) as Open words it.
        return AnyFamilyWeights.Of(Open(model, preset, deferPreset, environment));
    }

    private static bool LooksLikePath(string model) =>
        model.StartsWith('.') || model.StartsWith('~') || Path.IsPathRooted(model)
        || model.Contains('\\', StringComparison.Ordinal) || model.Count(c => c == '/') > 1;
}
