using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Checkpoints.Llama;

/// <summary>
/// Loads a Hugging Face LLaMA folder: <c>config.json</c> plus <c>model.safetensors</c> or a sharded
/// <c>model.safetensors.index.json</c>, F32, F16 or BF16. The weights are memory-mapped, never
/// copied; every tensor is checked against the configuration before the weights are returned.
/// </summary>
public static class LlamaCheckpoint
{
    /// <summary>Maps and validates the checkpoint in <paramref name="folder"/>.</summary>
    /// <exception cref="FloverException">
    /// A missing file, a corrupt safetensors file, an invalid or unsupported <c>config.json</c>, or
    /// tensors that disagree with it; the one-line message names the file and the key or tensor.
    /// </exception>
    public static LlamaWeights Load(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder))
        {
            throw new FloverException($"{folder}: no such folder.");
        }

        string configPath = Path.Combine(folder, Gpt2ConfigReader.FileName);
        LlamaConfig config = LlamaConfigReader.Read(configPath);
        var files = new List<SafetensorsFile>();
        try
        {
            SafetensorsIndex? index = Gpt2Checkpoint.OpenWeightFiles(folder, files);
            Dictionary<string, TensorView> tensors = LlamaCheckpointBinder.Bind(config, configPath, files, index);
            return new LlamaWeights(config, folder, tensors, files);
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
}
