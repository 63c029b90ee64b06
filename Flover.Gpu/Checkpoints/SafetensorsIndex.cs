using System.Text.Json;

namespace Flover.Gpu.Checkpoints;

/// <summary>
/// A sharded checkpoint's <c>model.safetensors.index.json</c>: its <c>weight_map</c> from tensor
/// name to the shard file (in the same folder) that holds it.
/// </summary>
internal sealed class SafetensorsIndex
{
    private SafetensorsIndex(string path, IReadOnlyDictionary<string, string> weightMap)
    {
        Path = path;
        WeightMap = weightMap;
    }

    /// <summary>The index file's path.</summary>
    public string Path { get; }

    /// <summary>Tensor name → shard file name, as listed.</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>The distinct shard file names, in first-mention order.</summary>
    public IReadOnlyList<string> ShardFiles => WeightMap.Values.Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Reads and validates the index at <paramref name="path"/>.</summary>
    /// <exception cref="FloverException">Not valid JSON, no <c>weight_map</c>, or a shard name that is not a plain file name.</exception>
    public static SafetensorsIndex Read(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException exception)
        {
            throw new FloverException($"{path}: not valid JSON ({exception.Message})", exception);
        }
        catch (IOException exception)
        {
            throw new FloverException($"{path}: cannot read the index ({exception.Message})", exception);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out JsonElement map)
                || map.ValueKind != JsonValueKind.Object)
            {
                throw new FloverException($"{path}: has no \"weight_map\" object mapping tensor names to shard files.");
            }

            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty property in map.EnumerateObject())
            {
                string? shard = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                // Shards live beside the index; a path could point anywhere on disk, so only plain names are accepted.
                if (string.IsNullOrEmpty(shard) || shard != System.IO.Path.GetFileName(shard) || shard is "." or "..")
                {
                    throw new FloverException($"{path}: weight_map entry for tensor '{property.Name}' is {property.Value.GetRawText()}, not the file name of a shard in the same folder.");
                }

                if (!weightMap.TryAdd(property.Name, shard))
                {
                    throw new FloverException($"{path}: tensor '{property.Name}' appears twice in weight_map.");
                }
            }

            if (weightMap.Count == 0)
            {
                throw new FloverException($"{path}: weight_map is empty.");
            }

            return new SafetensorsIndex(path, weightMap);
        }
    }
}
