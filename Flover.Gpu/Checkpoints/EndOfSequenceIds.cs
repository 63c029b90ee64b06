using System.Text.Json;

namespace Flover.Gpu.Checkpoints;

/// <summary>
/// The end-of-sequence ids a Hugging Face folder's model stops on: <c>config.json</c>'s
/// <c>eos_token_id</c> and <c>generation_config.json</c>'s (each a number or a list; Llama 3 lists
/// <c>&lt;|end_of_text|&gt;</c> and <c>&lt;|eot_id|&gt;</c>), in that order, each once. transformers'
/// <c>generate</c> stops on generation_config.json's; a chat model whose two files disagree stops
/// on either here, since either ends a turn.
/// </summary>
public static class EndOfSequenceIds
{
    /// <summary>The name of the file with a model's generation defaults.</summary>
    public const string GenerationConfigFileName = "generation_config.json";

    /// <summary>The ids <paramref name="folder"/>'s two files name, config.json's first; empty when neither names one.</summary>
    /// <exception cref="FloverException">A file is not JSON, or an id is not a non-negative integer inside <paramref name="vocabularySize"/> (one line naming the file and the key).</exception>
    public static IReadOnlyList<int> Read(string folder, int vocabularySize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var ids = new List<int>();
        foreach (string name in (string[])["config.json", GenerationConfigFileName])
        {
            string path = Path.Combine(folder, name);
            if (!File.Exists(path))
            {
                continue;
            }

            using JsonDocument document = ModelConfigFile.Parse(path);
            foreach (int id in new ConfigKeys(document.RootElement, path).TokenIds("eos_token_id", vocabularySize))
            {
                if (!ids.Contains(id))
                {
                    ids.Add(id);
                }
            }
        }

        return ids;
    }
}
