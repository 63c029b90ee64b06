using Flover.Gpu.Models;

namespace Flover.Gpu.Checkpoints;

/// <summary>
/// Matches the tensors of opened safetensors files to the tensors a <see cref="Gpt2Config"/>
/// requires: names mapped to canonical form, buffers skipped, every shape and dtype checked,
/// nothing missing, nothing unexplained, the sharded index consistent with its shards.
/// </summary>
internal static class Gpt2CheckpointBinder
{
    private readonly record struct Stored(SafetensorsFile File, SafetensorsEntry Entry);

    /// <summary>Returns canonical name → view for every required tensor, plus <see cref="Gpt2TensorNames.LmHead"/>.</summary>
    public static Dictionary<string, TensorView> Bind(Gpt2Config config, string configPath, IReadOnlyList<SafetensorsFile> files, SafetensorsIndex? index)
    {
        Dictionary<string, Stored> found = Collect(files, index);

        // When the two are tied, some exporters keep lm_head.weight and drop the embedding as its
        // duplicate (safetensors stores shared tensors once); transformers re-ties them on load.
        if (!found.ContainsKey(Gpt2TensorNames.TokenEmbedding) && found.Remove(Gpt2TensorNames.LmHead, out Stored head))
        {
            found.Add(Gpt2TensorNames.TokenEmbedding, head);
        }

        Dictionary<string, long[]> expected = Gpt2TensorShapes.Required(config).ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal);
        foreach ((string canonical, Stored stored) in found)
        {
            long[] shape = canonical == Gpt2TensorNames.LmHead
                ? Gpt2TensorShapes.LmHead(config)
                : expected.GetValueOrDefault(canonical) ?? throw Unexpected(config, configPath, canonical, stored);
            CheckDTypeAndShape(config, configPath, stored, shape);
        }

        string[] missing = [.. expected.Keys.Where(name => !found.ContainsKey(name))];
        if (missing.Length > 0)
        {
            string weights = index?.Path ?? files[0].Path;
            string more = missing.Length > 1 ? $" (and {missing.Length - 1} more)" : string.Empty;
            throw new FloverException(
                $"{weights}: tensor '{missing[0]}'{more} is missing (looked for it with and without the 'transformer.' prefix); {configPath} describes {Describe(config)}.");
        }

        var views = new Dictionary<string, TensorView>(StringComparer.Ordinal);
        foreach ((string canonical, Stored stored) in found)
        {
            views.Add(canonical, stored.File.GetView(stored.Entry.Name, canonical));
        }

        // Hugging Face ties the output projection to the token embedding; safetensors then stores it once.
        views.TryAdd(Gpt2TensorNames.LmHead, views[Gpt2TensorNames.TokenEmbedding]);
        return views;
    }

    private static Dictionary<string, Stored> Collect(IReadOnlyList<SafetensorsFile> files, SafetensorsIndex? index)
    {
        var found = new Dictionary<string, Stored>(StringComparer.Ordinal);
        foreach (SafetensorsFile file in files)
        {
            string shardName = Path.GetFileName(file.Path);
            foreach (SafetensorsEntry entry in file.Entries)
            {
                if (index is not null && index.WeightMap.GetValueOrDefault(entry.Name) != shardName)
                {
                    string listed = index.WeightMap.TryGetValue(entry.Name, out string? other) ? $"lists it in {other}" : "does not list it";
                    throw new FloverException($"{file.Path}: holds tensor '{entry.Name}' but {index.Path} {listed}.");
                }

                string? canonical = Gpt2CheckpointNames.ToCanonical(entry.Name);
                if (canonical is null)
                {
                    continue;
                }

                if (!found.TryAdd(canonical, new Stored(file, entry)))
                {
                    Stored first = found[canonical];
                    throw new FloverException(
                        $"{file.Path}: tensor '{entry.Name}' duplicates tensor '{first.Entry.Name}' in {first.File.Path} (both are '{canonical}').");
                }
            }
        }

        if (index is not null)
        {
            foreach ((string name, string shard) in index.WeightMap)
            {
                if (!files.First(f => Path.GetFileName(f.Path) == shard).Contains(name))
                {
                    throw new FloverException($"{index.Path}: lists tensor '{name}' in shard {shard}, which does not hold it.");
                }
            }
        }

        return found;
    }

    private static void CheckDTypeAndShape(Gpt2Config config, string configPath, Stored stored, long[] shape)
    {
        SafetensorsEntry entry = stored.Entry;
        if (entry.DType is null)
        {
            throw new FloverException($"{stored.File.Path}: tensor '{entry.Name}' has unsupported dtype '{entry.DTypeName}' (Flover reads F32, F16 and BF16).");
        }

        if (entry.Shape.SequenceEqual(shape))
        {
            return;
        }

        bool transposed = shape.Length == 2 && entry.Shape.Count == 2 && entry.Shape[0] == shape[1] && entry.Shape[1] == shape[0]
            && (entry.Name.EndsWith("c_attn.weight", StringComparison.Ordinal) || entry.Name.EndsWith("c_proj.weight", StringComparison.Ordinal) || entry.Name.EndsWith("c_fc.weight", StringComparison.Ordinal));
        string hint = transposed ? " It looks transposed: GPT-2's Conv1D weights are stored [in, out], as Hugging Face saves them." : string.Empty;
        throw new FloverException(
            $"{stored.File.Path}: tensor '{entry.Name}' has shape {entry.ShapeText} but {configPath} ({Describe(config)}) expects {SafetensorsDTypes.FormatShape(shape)}: the config is inconsistent with the tensors.{hint}");
    }

    private static FloverException Unexpected(Gpt2Config config, string configPath, string canonical, Stored stored)
    {
        string problem = Gpt2CheckpointNames.LayerOf(canonical) is int layer && layer >= config.LayerCount
            ? $"belongs to block {layer} but {configPath} has n_layer {config.LayerCount}: the config is inconsistent with the tensors."
            : "is not part of a GPT-2 language model.";
        return new FloverException($"{stored.File.Path}: tensor '{stored.Entry.Name}' {problem}");
    }

    private static string Describe(Gpt2Config c) =>
        $"n_layer {c.LayerCount}, n_head {c.HeadCount}, n_embd {c.EmbeddingSize}, n_positions {c.MaxPositions}, n_inner {c.InnerSize}, vocab_size {c.VocabularySize}";
}
