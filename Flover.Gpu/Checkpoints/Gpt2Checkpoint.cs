using Flover.Gpu.Models;

namespace Flover.Gpu.Checkpoints;

/// <summary>
/// Loads a Hugging Face GPT-2 folder: <c>config.json</c> plus <c>model.safetensors</c> or a
/// sharded <c>model.safetensors.index.json</c>. The weights are memory-mapped, never copied;
/// every tensor is checked against the configuration before the weights are returned.
/// </summary>
public static class Gpt2Checkpoint
{
    /// <summary>The single-file weights name.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>The index of a sharded checkpoint.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>
    /// Maps and validates the checkpoint in <paramref name="folder"/>. The result holds the files
    /// mapped until it is disposed; its tensors are F32, F16 or BF16 as stored, under canonical names,
    /// with <see cref="Gpt2TensorNames.LmHead"/> returning the token embedding when the checkpoint has no
    /// <c>lm_head.weight</c> of its own.
    /// </summary>
    /// <exception cref="FloverException">
    /// A missing file, an unreadable or corrupt safetensors file, an invalid <c>config.json</c>, or
    /// tensors that disagree with it; the message names the file and the tensor.
    /// </exception>
    public static IModelWeights Load(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder))
        {
            throw new FloverException($"{folder}: no such folder.");
        }

        string configPath = Path.Combine(folder, Gpt2ConfigReader.FileName);
        if (!File.Exists(configPath))
        {
            throw new FloverException($"{folder}: has no {Gpt2ConfigReader.FileName}; a Hugging Face GPT-2 folder holds config.json beside {SingleFileName}.");
        }

        Gpt2Config config = Gpt2ConfigReader.Read(configPath);
        var files = new List<SafetensorsFile>();
        try
        {
            SafetensorsIndex? index = OpenWeightFiles(folder, files);
            Dictionary<string, TensorView> tensors = Gpt2CheckpointBinder.Bind(config, configPath, files, index);
            return new MappedModelWeights(config, folder, files, tensors);
        }
        catch
        {
            foreach (SafetensorsFile file in files)
            {
                file.Dispose();
            }

            throw;
        }
    }

    /// <summary>Opens <c>model.safetensors</c>, or every shard of the index; returns the index, or null for a single file.</summary>
    internal static SafetensorsIndex? OpenWeightFiles(string folder, List<SafetensorsFile> files)
    {
        string single = Path.Combine(folder, SingleFileName);
        if (File.Exists(single))
        {
            files.Add(SafetensorsFile.Open(single));
            return null;
        }

        string indexPath = Path.Combine(folder, IndexFileName);
        if (!File.Exists(indexPath))
        {
            string hint = File.Exists(Path.Combine(folder, "pytorch_model.bin"))
                ? " It has pytorch_model.bin: Flover reads only safetensors (convert it with transformers' save_pretrained(..., safe_serialization=True))."
                : string.Empty;
            throw new FloverException($"{folder}: has neither {SingleFileName} nor {IndexFileName}.{hint}");
        }

        SafetensorsIndex index = SafetensorsIndex.Read(indexPath);
        foreach (string shard in index.ShardFiles)
        {
            string shardPath = Path.Combine(folder, shard);
            if (!File.Exists(shardPath))
            {
                string tensor = index.WeightMap.First(pair => pair.Value == shard).Key;
                throw new FloverException($"{indexPath}: shard {shard} (holding tensor '{tensor}') is missing from {folder}.");
            }

            files.Add(SafetensorsFile.Open(shardPath));
        }

        return index;
    }
}
