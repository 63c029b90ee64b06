using System.Text.Json;

namespace Flover.Gpu.Checkpoints;

/// <summary>Typed reads of a <c>config.json</c> object's keys, each failure naming the file, the key and the value.</summary>
internal readonly struct ConfigKeys
{
    private readonly JsonElement _root;
    private readonly string _path;

    public ConfigKeys(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FloverException($"{path}: the top level is {root.ValueKind}, not a JSON object.");
        }

        _root = root;
        _path = path;
    }

    public int RequiredPositiveInt(string key) =>
        OptionalPositiveInt(key) ?? throw new FloverException($"{_path}: key '{key}' is missing.");

    /// <summary>The key's positive integer value, or null when the key is absent or null.</summary>
    public int? OptionalPositiveInt(string key)
    {
        if (!TryGet(key, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) && number > 0
            ? number
            : throw Invalid(key, value, "a positive integer");
    }

    public float? OptionalPositiveFloat(string key)
    {
        if (!TryGet(key, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double number) && number > 0 && float.IsFinite((float)number) && (float)number > 0
            ? (float)number
            : throw Invalid(key, value, "a positive finite number");
    }

    public string? OptionalString(string key)
    {
        if (!TryGet(key, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw Invalid(key, value, "a string");
    }

    /// <summary>A special token id: GPT-2's 50256 when absent, and always inside the vocabulary.</summary>
    public int TokenId(string key, int vocabularySize)
    {
        int id = Gpt2ConfigReader.DefaultSpecialTokenId;
        bool present = TryGet(key, out JsonElement value);
        if (present)
        {
            id = value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) && number >= 0
                ? number
                : throw Invalid(key, value, "a non-negative integer token id");
        }

        return id < vocabularySize
            ? id
            : throw new FloverException(
                $"{_path}: key '{key}' is {id}{(present ? string.Empty : " (GPT-2's default, as the key is absent)")}, outside the vocabulary (vocab_size {vocabularySize}).");
    }

    /// <summary>Fails when boolean <paramref name="key"/> is set to <paramref name="unsupportedValue"/>: a variant Flover does not compute.</summary>
    public void RefuseFlag(string key, bool unsupportedValue, string feature)
    {
        if (!TryGet(key, out JsonElement value))
        {
            return;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw Invalid(key, value, "true or false");
        }

        if (value.GetBoolean() == unsupportedValue)
        {
            throw new FloverException($"{_path}: key '{key}' is {value.GetRawText()}, which asks for {feature}; Flover does not implement that.");
        }
    }

    private bool TryGet(string key, out JsonElement value) =>
        _root.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null;

    private FloverException Invalid(string key, JsonElement value, string expected) =>
        new($"{_path}: key '{key}' is {value.GetRawText()}, not {expected}.");
}
