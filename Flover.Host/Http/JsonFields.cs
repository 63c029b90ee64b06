using System.Globalization;
using System.Text.Json;

namespace Flover.Host.Http;

/// <summary>
/// Typed reads of one JSON object's fields, each failing with a 400 that names the field by its
/// path (<c>stream_options.include_usage</c>, <c>messages[2].content</c>). A field that is absent
/// or <c>null</c> reads as null (OpenAI treats both as "not given"); fields never asked for are
/// ignored, whatever their type.
/// </summary>
internal readonly struct JsonFields
{
    private readonly JsonElement _object;
    private readonly string _prefix;

    public JsonFields(JsonElement obj, string prefix = "")
    {
        _object = obj;
        _prefix = prefix;
    }

    /// <summary>The path of field <paramref name="name"/> in the request.</summary>
    public string PathOf(string name) => _prefix.Length == 0 ? name : $"{_prefix}.{name}";

    /// <summary>The field's value when present and not null.</summary>
    public JsonElement? Get(string name) =>
        _object.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public string? String(string name)
    {
        JsonElement? value = Get(name);
        return value is null ? null : value.Value.ValueKind == JsonValueKind.String ? value.Value.GetString() : throw WrongType(name, "a string", value.Value);
    }

    public bool? Bool(string name)
    {
        JsonElement? value = Get(name);
        return value?.ValueKind switch
        {
            null => null,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(name, "a boolean", value!.Value),
        };
    }

    /// <summary>An integer field within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public long? Integer(string name, long min = long.MinValue, long max = long.MaxValue, string? range = null)
    {
        JsonElement? value = Get(name);
        if (value is null)
        {
            return null;
        }

        if (value.Value.ValueKind != JsonValueKind.Number || !value.Value.TryGetInt64(out long number))
        {
            throw WrongType(name, "an integer", value.Value);
        }

        return number >= min && number <= max
            ? number
            : throw ApiException.Invalid(PathOf(name), $"'{PathOf(name)}' must be {range ?? DescribeRange(min, max)}, not {number}.");
    }

    /// <summary>A number field; <paramref name="valid"/> checks its range, described by <paramref name="range"/>.</summary>
    public double? Number(string name, Func<double, bool> valid, string range)
    {
        JsonElement? value = Get(name);
        if (value is null)
        {
            return null;
        }

        if (value.Value.ValueKind != JsonValueKind.Number)
        {
            throw WrongType(name, "a number", value.Value);
        }

        double number = value.Value.GetDouble();
        return valid(number)
            ? number
            : throw ApiException.Invalid(PathOf(name), $"'{PathOf(name)}' must be {range}, not {number.ToString(CultureInfo.InvariantCulture)}.");
    }

    /// <summary>An object field, as fields of its own.</summary>
    public JsonFields? Object(string name)
    {
        JsonElement? value = Get(name);
        return value is null ? null
            : value.Value.ValueKind == JsonValueKind.Object ? new JsonFields(value.Value, PathOf(name))
            : throw WrongType(name, "an object", value.Value);
    }

    /// <summary>The 400 for field <paramref name="name"/> holding the wrong kind of value.</summary>
    public ApiException WrongType(string name, string expected, JsonElement actual) =>
        ApiException.Invalid(PathOf(name), $"'{PathOf(name)}' must be {expected}, not {Describe(actual)}.");

    /// <summary>How a JSON value is named in error messages.</summary>
    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private static string DescribeRange(long min, long max) =>
        max == long.MaxValue ? $"an integer ≥ {min}" : $"an integer from {min} to {max}";
}
