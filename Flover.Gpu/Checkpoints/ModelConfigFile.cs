using System.Text.Json;

namespace Flover.Gpu.Checkpoints;

/// <summary>Reading a model folder's <c>config.json</c> before knowing its family: the file itself and its architecture.</summary>
internal static class ModelConfigFile
{
    /// <summary>Parses the file; the caller disposes the document.</summary>
    /// <exception cref="FloverException">Missing, unreadable or not JSON.</exception>
    public static JsonDocument Parse(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FloverException($"{path}: not found; a Hugging Face model folder holds config.json beside model.safetensors.", exception);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new FloverException($"{path}: cannot read ({exception.Message})", exception);
        }

        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException exception)
        {
            throw new FloverException($"{path}: not valid JSON ({exception.Message})", exception);
        }
    }

    /// <summary>
    /// The first of <c>architectures</c>; without it, the class <c>model_type</c> implies
    /// (<c>gpt2</c> → GPT2LMHeadModel, <c>llama</c> → LlamaForCausalLM, any other is its model_type).
    /// A config with neither is GPT-2's, as older GPT-2 folders omit both.
    /// </summary>
    public static string ArchitectureOf(JsonElement root, string path)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("architectures", out JsonElement list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0)
        {
            JsonElement first = list[0];
            return first.ValueKind == JsonValueKind.String
                ? first.GetString()!
                : throw new FloverException($"{path}: key 'architectures' is {list.GetRawText()}, not a list of class names.");
        }

        string? modelType = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model_type", out JsonElement type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;
        return modelType switch
        {
            null or "gpt2" => "GPT2LMHeadModel",
            "llama" => "LlamaForCausalLM",
            _ => modelType,
        };
    }
}
