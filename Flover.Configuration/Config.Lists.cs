namespace Flover.Configuration;

public sealed partial class Config
{
    /// <summary>The list at <paramref name="path"/> as strings; <paramref name="default"/> (or empty) when missing.</summary>
    public IList<string> GetStringList(string path, IList<string>? @default = null) =>
        ConvertReferenceList(path, @default, "strings", s => s.ValueType == ConfigValueType.Null ? null : s.Text);

    /// <summary>The list at <paramref name="path"/> as 32-bit integers; <paramref name="default"/> (or empty) when missing.</summary>
    public IList<int> GetIntList(string path, IList<int>? @default = null) =>
        ConvertList(path, @default, "32-bit integers", s => ToLong(s) is long l and >= int.MinValue and <= int.MaxValue ? (int?)l : null);

    /// <summary>The list at <paramref name="path"/> as 64-bit integers; <paramref name="default"/> (or empty) when missing.</summary>
    public IList<long> GetLongList(string path, IList<long>? @default = null) => ConvertList(path, @default, "64-bit integers", ToLong);

    /// <summary>The list at <paramref name="path"/> as doubles; <paramref name="default"/> (or empty) when missing.</summary>
    public IList<double> GetDoubleList(string path, IList<double>? @default = null) => ConvertList(path, @default, "numbers", ToDouble);

    /// <summary>The list at <paramref name="path"/> as booleans; <paramref name="default"/> (or empty) when missing.</summary>
    public IList<bool> GetBooleanList(string path, IList<bool>? @default = null) => ConvertList(path, @default, "booleans", ToBoolean);

    /// <summary>The list at <paramref name="path"/> as durations (numbers are milliseconds); <paramref name="default"/> (or empty) when missing.</summary>
    public IList<TimeSpan> GetTimeSpanList(string path, IList<TimeSpan>? @default = null) =>
        ConvertList(path, @default, "durations", s => HoconUnits.ParseDuration(s, allowInfinite: true, out _));

    /// <summary>The list at <paramref name="path"/> as sizes in bytes; <paramref name="default"/> (or empty) when missing.</summary>
    public IList<long> GetByteSizeList(string path, IList<long>? @default = null) =>
        ConvertList(path, @default, "sizes in bytes", s => HoconUnits.ParseBytes(s, out _));

    /// <summary>
    /// The list at <paramref name="path"/> as values. An object whose keys are integers
    /// (<c>{ "0" : a, "1" : b }</c>) reads as a list, sorted by key, as the HOCON specification allows.
    /// </summary>
    public IList<ConfigValue> GetValueList(string path)
    {
        ConfigValue? value = GetValue(path);
        return value is null ? [] : AsList(path, value, "a list");
    }

    private List<T> ConvertReferenceList<T>(string path, IList<T>? @default, string elements, Func<ConfigScalar, T?> convert)
        where T : class => ConvertListCore(path, @default, elements, s => convert(s) is { } v ? (true, v) : (false, default!));

    private List<T> ConvertList<T>(string path, IList<T>? @default, string elements, Func<ConfigScalar, T?> convert)
        where T : struct => ConvertListCore(path, @default, elements, s => convert(s) is T v ? (true, v) : (false, default));

    private List<T> ConvertListCore<T>(string path, IList<T>? @default, string elements, Func<ConfigScalar, (bool Ok, T Value)> convert)
    {
        ConfigValue? value = GetValue(path);
        if (value is null)
        {
            return @default is null ? [] : [.. @default];
        }

        IList<ConfigValue> items = AsList(path, value, $"a list of {elements}");
        var result = new List<T>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            (bool ok, T converted) = items[i] is ConfigScalar scalar ? convert(scalar) : (false, default!);
            if (!ok)
            {
                throw WrongType($"{path}[{i}]", items[i], $"one of a list of {elements}");
            }

            result.Add(converted);
        }

        return result;
    }

    private static List<ConfigValue> AsList(string path, ConfigValue value, string expected)
    {
        if (value is ConfigList list)
        {
            return [.. list];
        }

        if (value is ConfigObject { Count: > 0 } obj)
        {
            // Numerically indexed object: integer keys sorted, other keys ignored, gaps closed.
            List<ConfigValue> indexed = obj
                .Select(f => (Index: int.TryParse(f.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) ? n : -1, f.Value))
                .Where(f => f.Index >= 0)
                .OrderBy(f => f.Index)
                .Select(f => f.Value)
                .ToList();
            if (indexed.Count > 0)
            {
                return indexed;
            }
        }

        throw WrongType(path, value, expected);
    }
}
