using System.Text.Json;

namespace Flover.Gpu.Checkpoints;

/// <summary>
/// Parses and validates the JSON header of a safetensors file, straight from the mapped bytes
/// (no copy into a managed array). Validation follows the reference implementation: every
/// tensor's byte range matches its shape and dtype, ranges neither overlap nor leave holes, and
/// together they cover the data section exactly.
/// </summary>
internal static partial class SafetensorsHeaderParser
{
    /// <summary>The largest header the reference implementation accepts (100 MB).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>The key of the free-form string map that is not a tensor.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>Parses <paramref name="json"/> and checks every entry against a data section of <paramref name="dataLength"/> bytes.</summary>
    /// <exception cref="FloverException">The header is not valid JSON, not a safetensors header, or inconsistent with the data.</exception>
    public static IReadOnlyList<SafetensorsEntry> Parse(ReadOnlySpan<byte> json, long dataLength, string file)
    {
        List<SafetensorsEntry> entries;
        try
        {
            entries = ReadEntries(json, file);
        }
        catch (JsonException exception)
        {
            throw new FloverException($"{file}: the safetensors header is not valid JSON ({exception.Message})", exception);
        }

        foreach (SafetensorsEntry entry in entries)
        {
            ValidateEntry(entry, file);
        }

        ValidateCoverage(entries, dataLength, file);
        return entries;
    }

    private static List<SafetensorsEntry> ReadEntries(ReadOnlySpan<byte> json, string file)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FloverException($"{file}: the safetensors header is not a JSON object.");
        }

        var entries = new List<SafetensorsEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            if (name == MetadataKey)
            {
                reader.Skip();
                continue;
            }

            if (!seen.Add(name))
            {
                throw new FloverException($"{file}: tensor '{name}' appears twice in the safetensors header.");
            }

            entries.Add(ReadEntry(ref reader, name, file));
        }

        // Reading past the closing brace makes the reader reject any non-whitespace trailing bytes.
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            throw new FloverException($"{file}: the safetensors header has content after its closing brace.");
        }

        return entries;
    }

    private static SafetensorsEntry ReadEntry(ref Utf8JsonReader reader, string name, string file)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FloverException($"{file}: tensor '{name}' is described by {reader.TokenType} instead of an object with dtype, shape and data_offsets.");
        }

        string? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            reader.Read();
            switch (field)
            {
                case "dtype":
                    dtype = reader.TokenType == JsonTokenType.String
                        ? reader.GetString()!
                        : throw new FloverException($"{file}: tensor '{name}' has a dtype that is not a string.");
                    break;
                case "shape":
                    shape = ReadNonNegativeIntegers(ref reader, name, field, file);
                    break;
                case "data_offsets":
                    offsets = ReadNonNegativeIntegers(ref reader, name, field, file);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        string missing = dtype is null ? "dtype" : shape is null ? "shape" : offsets is null ? "data_offsets" : string.Empty;
        if (missing.Length > 0)
        {
            throw new FloverException($"{file}: tensor '{name}' has no \"{missing}\" in the safetensors header.");
        }

        if (offsets!.Length != 2)
        {
            throw new FloverException($"{file}: tensor '{name}' has data_offsets with {offsets.Length} values instead of [begin, end].");
        }

        return new SafetensorsEntry(name, dtype!, shape!, offsets[0], offsets[1]);
    }

    private static long[] ReadNonNegativeIntegers(ref Utf8JsonReader reader, string name, string field, string file)
    {
        string problem = $"{file}: tensor '{name}' has a \"{field}\" that is not an array of non-negative integers.";
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new FloverException(problem);
        }

        var values = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long value) || value < 0)
            {
                throw new FloverException(problem);
            }

            values.Add(value);
        }

        return [.. values];
    }
}
