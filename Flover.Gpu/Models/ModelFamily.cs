using System.Text.Json;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models;

/// <summary>The model families Flover runs; which loader and which <see cref="IModel"/> a folder needs.</summary>
public enum ModelFamily
{
    /// <summary>GPT2LMHeadModel (<see cref="Gpt2.Gpt2Model"/>).</summary>
    Gpt2,

    /// <summary>LlamaForCausalLM (<see cref="Llama.LlamaModel"/>).</summary>
    Llama,
}

/// <summary>Tells a Hugging Face folder's family from its <c>config.json</c> before anything is loaded.</summary>
public static class ModelFamilies
{
    /// <summary>The architectures Flover runs, as messages list them.</summary>
    public const string Supported = "GPT2LMHeadModel and LlamaForCausalLM";

    /// <summary>
    /// The family of the model in <paramref name="folder"/>: from <c>architectures</c>, else
    /// <c>model_type</c>. A folder without a readable <c>config.json</c> is taken for GPT-2, whose
    /// loader then names what is missing, as it always has.
    /// </summary>
    /// <exception cref="FloverException">The architecture is neither (one line naming it and what is supported).</exception>
    public static ModelFamily Of(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string path = Path.Combine(folder, Gpt2ConfigReader.FileName);
        if (!File.Exists(path))
        {
            return ModelFamily.Gpt2;
        }

        using JsonDocument document = ModelConfigFile.Parse(path);
        string architecture = ModelConfigFile.ArchitectureOf(document.RootElement, path);
        return architecture switch
        {
            "GPT2LMHeadModel" or "GPT2Model" => ModelFamily.Gpt2,
            Checkpoints.Llama.LlamaConfigReader.Architecture => ModelFamily.Llama,
            _ => throw new FloverException($"{path}: architecture '{architecture}' is not supported; Flover runs {Supported}."),
        };
    }
}
