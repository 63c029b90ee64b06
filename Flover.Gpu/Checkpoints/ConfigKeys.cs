using System.Text.Json;

namespace Flover.Gpu.Checkpoints;

/// <summary>Typed reads of a <c>config.json</c> object's keys, each failure naming the file, the key and the value.</summary>
internal readonly struct ConfigKeys
{
    private readonly JsonElement _root;
    private readonly string _path;
    private readonly string _prefix;

    /// <param name="root">The object whose keys are read.</param>
    /// <param name="path">The file, as messages name it.</param>
    /// <param name="prefix">Prepended to key names in messages: a nested object's <c>"rope_scaling."</c>.</param>
    public ConfigKeys(JsonElement root, string path, string prefix = "")
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FloverException(prefix.Length == 0
                ? $"{path}: the top level is {root.ValueKind}, not a JSON object."
                : $"{path}: key '{prefix.TrimEnd('.')}' is {root.GetRawText()}, not a JSON object.");
        }

        _root = root;
        _path = path;
        _prefix = prefix;
    }

    /// <summary>The nested object under <paramref name="key"/>, or null when the key is absent or null.</summary>
    public ConfigKeys? Nested(string key) =>
        TryGet(key, out JsonElement value) ? new ConfigKeys(value, _path, $"{_prefix}{key}.") : null;

    public bool OptionalBool(string key, bool fallback)
    {
        if (!TryGet(key, out JsonElement value))
        {
            return fallback;
        }

        return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : throw Invalid(key, value, "true or false");
    }

    /// <summary>A special token id inside the vocabulary, or null when absent; a list (LLaMA 3's several end ids) gives its first.</summary>
    public int? OptionalTokenId(string key, int vocabularySize)
    {
        int[] ids = TokenIds(key, vocabularySize);
        return ids.Length > 0 ? ids[0] : null;
    }

    /// <summary>Every id of a special token key, in order (one for a number, each of a list); none when the key is absent or null.</summary>
    public int[] TokenIds(string key, int vocabularySize)
    {
        if (!TryGet(key, out JsonElement value))
        {
            return [];
        }

        JsonElement[] items = value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray()] : [value];
        var ids = new int[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            ids[i] = items[i].ValueKind == JsonValueKind.Number && items[i].TryGetInt32(out int number) && number >= 0
                ? number
                : throw Invalid(key, value, "a non-negative integer token id (or a list of them)");
            if (ids[i] >= vocabularySize)
            {
                throw new FloverException(value.ValueKind == JsonValueKind.Array
                    ? $"{_path}: key '{_prefix}{key}' is {value.GetRawText()}: {ids[i]} is outside the vocabulary (vocab_size {vocabularySize})."
                    : $"{_path}: key '{_prefix}{key}' is {ids[i]}, outside the vocabulary (vocab_size {vocabularySize}).");
            }
        }

        return ids;
    }

    /// <summary>A failure naming <paramref name="key"/> (with this object's prefix) and what is wrong with it.</summary>
    public FloverException Error(string key, string problem) => new($"{_path}: key '{_prefix}{key}' {problem}");

    public int RequiredPositiveInt(string key) =>
        OptionalPositiveInt(key) ?? throw new FloverException($"{_path}: key '{_prefix}{key}' is missing.");

    public float RequiredPositiveFloat(string key) =>
        OptionalPositiveFloat(key) ?? throw new FloverException($"{_path}: key '{_prefix}{key}' is missing.");

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
            throw new FloverException($"{_path}: key '{_prefix}{key}' is {value.GetRawText()}, which asks for {feature}; Flover does not implement that.");
        }
    }

    public bool TryGet(string key, out JsonElement value) =>
        _root.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null;

    private FloverException Invalid(string key, JsonElement value, string expected) =>
        new($"{_path}: key '{_prefix}{key}' is {value.GetRawText()}, not {expected}.");
}
