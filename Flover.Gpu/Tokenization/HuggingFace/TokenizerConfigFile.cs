using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flover.Gpu.Tokenization.HuggingFace;

/// <summary>
/// The parts of a Hugging Face tokenizer_config.json Flover uses: the BOS and EOS tokens, whether
/// prompts start with BOS, and the Jinja chat template. A missing file means none of them.
/// </summary>
/// <param name="BosToken">The content of <c>bos_token</c> (a string or an AddedToken object), or null.</param>
/// <param name="EosToken">The content of <c>eos_token</c>, or null.</param>
/// <param name="AddBosToken"><c>add_bos_token</c>, or null where the file does not say.</param>
/// <param name="ChatTemplate"><c>chat_template</c> (the one named "default" where it is a list), or null.</param>
internal sealed record TokenizerConfigFile(string? BosToken, string? EosToken, bool? AddBosToken, string? ChatTemplate)
{
    /// <summary>The file name in a model folder.</summary>
    public const string FileName = "tokenizer_config.json";

    /// <summary>Reads <paramref name="path"/>, or returns an empty config where it does not exist.</summary>
    /// <exception cref="FloverException">The file is not JSON or a key has the wrong shape; the message names the file and the key.</exception>
    public static TokenizerConfigFile Read(string path)
    {
        if (!File.Exists(path))
        {
            return new TokenizerConfigFile(null, null, null, null);
        }

        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new FloverException($"{path}: not a JSON object.");
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw new FloverException($"{path}: cannot read it: {e.Message}", e);
        }

        return new TokenizerConfigFile(
            TokenContent(path, root, "bos_token"),
            TokenContent(path, root, "eos_token"),
            root["add_bos_token"] switch
            {
                null => null,
                JsonValue value when value.TryGetValue(out bool flag) => flag,
                _ => throw new FloverException($"{path}: 'add_bos_token' must be true or false."),
            },
            Template(path, root["chat_template"]));
    }

    private static string? TokenContent(string path, JsonObject root, string key) => root[key] switch
    {
        null => null,
        JsonValue value when value.TryGetValue(out string? text) => text,
        JsonObject token when token["content"] is JsonValue content && content.TryGetValue(out string? text) => text,
        _ => throw new FloverException($"{path}: '{key}' must be a string or an object with 'content'."),
    };

    /// <summary>A template string, or transformers' list of {name, template}, from which "default" is served.</summary>
    private static string? Template(string path, JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonValue value when value.TryGetValue(out string? text):
                return text;
            case JsonArray list:
                JsonNode? chosen = list.FirstOrDefault(t => t?["name"]?.GetValue<string>() == "default") ?? list.FirstOrDefault();
                return chosen?["template"]?.GetValue<string>() ?? throw new FloverException($"{path}: 'chat_template' is a list without a 'default' entry holding 'template'.");
            default:
                throw new FloverException($"{path}: 'chat_template' must be a string or a list of {{name, template}}.");
        }
    }
}
