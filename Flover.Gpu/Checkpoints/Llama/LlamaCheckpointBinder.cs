using System.Text.RegularExpressions;
using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Checkpoints.Llama;

/// <summary>
/// Matches the tensors of opened safetensors files to the tensors a <see cref="LlamaConfig"/>
/// requires: every shape and dtype checked, nothing missing, nothing unexplained.
/// </summary>
internal static partial class LlamaCheckpointBinder
{
    public static Dictionary<string, TensorView> Bind(LlamaConfig config, string configPath, IReadOnlyList<SafetensorsFile> files, SafetensorsIndex? index)
    {
        var found = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        foreach (SafetensorsFile file in files)
        {
            foreach (SafetensorsEntry entry in file.Entries)
            {
                // Older exporters saved each layer's rotary inv_freq buffer; Flover computes its own.
                if (RotaryBuffer().IsMatch(entry.Name))
                {
                    continue;
                }

                if (!found.TryAdd(entry.Name, file))
                {
                    throw new FloverException($"{file.Path}: tensor '{entry.Name}' is also in {found[entry.Name].Path}.");
                }
            }
        }

        string weightsPath = index?.Path ?? files[0].Path;
        Dictionary<string, long[]> expected = LlamaTensorNames.Required(config).ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal);
        var views = new Dictionary<string, TensorView>(StringComparer.Ordinal);
        foreach ((string name, long[] shape) in expected)
        {
            if (!found.Remove(name, out SafetensorsFile? file))
            {
                throw new FloverException($"{weightsPath}: tensor '{name}' is missing; {configPath} describes {Describe(config)}.");
            }

            SafetensorsEntry entry = file.GetEntry(name);
            if (entry.DType is null)
            {
                throw new FloverException($"{file.Path}: tensor '{name}' has unsupported dtype '{entry.DTypeName}' (Flover reads F32, F16 and BF16).");
            }

            if (!entry.Shape.SequenceEqual(shape))
            {
                throw new FloverException(
                    $"{file.Path}: tensor '{name}' has shape {entry.ShapeText} but {configPath} ({Describe(config)}) expects {SafetensorsDTypes.FormatShape(shape)}.");
            }

            views.Add(name, file.GetView(name));
        }

        // A tied checkpoint may still carry lm_head.weight (the same values, stored twice): ignore it.
        if (config.TieWordEmbeddings)
        {
            found.Remove(LlamaTensorNames.LmHead);
            views.Add(LlamaTensorNames.LmHead, views[LlamaTensorNames.TokenEmbedding]);
        }

        if (found.Count > 0)
        {
            (string name, SafetensorsFile file) = found.OrderBy(pair => pair.Key, StringComparer.Ordinal).First();
            throw new FloverException($"{file.Path}: tensor '{name}' is not part of a LLaMA model as {configPath} describes it ({Describe(config)}).");
        }

        return views;
    }

    private static string Describe(LlamaConfig c) =>
        $"{c.LayerCount} layers, hidden {c.HiddenSize}, {c.HeadCount} heads / {c.KvHeadCount} KV heads of {c.HeadSize}, intermediate {c.IntermediateSize}, vocab {c.VocabularySize}"
        + $"{(c.TieWordEmbeddings ? ", tied head" : string.Empty)}{(c.AttentionBias ? ", attention bias" : string.Empty)}{(c.MlpBias ? ", MLP bias" : string.Empty)}";

    [GeneratedRegex(@"^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$")]
    private static partial Regex RotaryBuffer();
}
