using System.Globalization;

namespace Flover.Configuration;

public sealed partial class Config
{
    /// <summary>The string at <paramref name="path"/>; numbers and booleans as written; <paramref name="default"/> when missing; null for an explicit null.</summary>
    public string? GetString(string path, string? @default = null)
    {
        ConfigValue? value = GetValue(path);
        return value switch
        {
            null => @default,
            ConfigScalar { ValueType: ConfigValueType.Null } => null,
            ConfigScalar scalar => scalar.Text,
            _ => throw WrongType(path, value, "a string"),
        };
    }

    /// <summary>The boolean at <paramref name="path"/>: <c>true/yes/on</c> or <c>false/no/off</c>; <paramref name="default"/> when missing.</summary>
    public bool GetBoolean(string path, bool @default = false) =>
        Convert(path, @default, "a boolean (true/false, yes/no, on/off)", ToBoolean);

    /// <summary>The 32-bit integer at <paramref name="path"/> (a number or a string holding one); <paramref name="default"/> when missing.</summary>
    public int GetInt(string path, int @default = 0) =>
        Convert(path, @default, "a 32-bit integer", s => ToLong(s) is long l and >= int.MinValue and <= int.MaxValue ? (int)l : null);

    /// <summary>The 64-bit integer at <paramref name="path"/>; <paramref name="default"/> when missing.</summary>
    public long GetLong(string path, long @default = 0) => Convert(path, @default, "a 64-bit integer", ToLong);

    /// <summary>The number at <paramref name="path"/> as a double; <paramref name="default"/> when missing.</summary>
    public double GetDouble(string path, double @default = 0) => Convert(path, @default, "a number", ToDouble);

    /// <summary>The number at <paramref name="path"/> as a float; <paramref name="default"/> when missing.</summary>
    public float GetFloat(string path, float @default = 0) => Convert(path, @default, "a number", s => ToDouble(s) is double d ? (float)d : null);

    /// <summary>The number at <paramref name="path"/> as a decimal; <paramref name="default"/> when missing.</summary>
    public decimal GetDecimal(string path, decimal @default = 0) =>
        Convert(path, @default, "a number", s => s.ValueType is ConfigValueType.Number or ConfigValueType.String
            && decimal.TryParse(s.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal d) ? d : null);

    /// <summary>
    /// The duration at <paramref name="path"/>: a number of milliseconds or a string such as
    /// <c>10s</c>, <c>250 ms</c>, <c>2 minutes</c>; with <paramref name="allowInfinite"/>, Akka.NET's
    /// <c>infinite</c> gives <see cref="Timeout.InfiniteTimeSpan"/>. <paramref name="default"/> (or zero) when missing.
    /// </summary>
    public TimeSpan GetTimeSpan(string path, TimeSpan? @default = null, bool allowInfinite = true)
    {
        string? problem = null;
        return Convert(path, @default ?? TimeSpan.Zero, allowInfinite ? "a duration (e.g. 10s, 250ms, infinite)" : "a finite duration (e.g. 10s, 250ms)", s => HoconUnits.ParseDuration(s, allowInfinite, out problem), () => problem);
    }

    /// <summary>
    /// A duration that Akka.NET's configs switch off with <c>off</c> (e.g.
    /// <c>auto-down-unreachable-after = off</c>): null when the value is <c>off</c>, otherwise as
    /// <see cref="GetTimeSpan"/>.
    /// </summary>
    public TimeSpan? GetTimeSpanWithOffSwitch(string path, TimeSpan? @default = null)
    {
        ConfigValue? value = GetValue(path);
        if (value is ConfigScalar { ValueType: ConfigValueType.String } s && s.Text.Trim() == "off"
            || value is ConfigScalar { ValueType: ConfigValueType.Boolean, Text: "false" })
        {
            return null;
        }

        return value is null ? @default : GetTimeSpan(path, @default);
    }

    /// <summary>
    /// The size in bytes at <paramref name="path"/>: a number of bytes or a string such as
    /// <c>64 MiB</c>, <c>512k</c>, <c>10MB</c> (single letters are powers of two); null (or
    /// <paramref name="default"/>) when missing.
    /// </summary>
    public long? GetByteSize(string path, long? @default = null)
    {
        if (GetValue(path) is null)
        {
            return @default;
        }

        string? problem = null;
        return Convert(path, 0L, "a size in bytes (e.g. 1024, 64 MiB, 10MB)", s => HoconUnits.ParseBytes(s, out problem), () => problem);
    }

    private T Convert<T>(string path, T @default, string expected, Func<ConfigScalar, T?> convert, Func<string?>? reason = null)
        where T : struct
    {
        ConfigValue? value = GetValue(path);
        if (value is null)
        {
            return @default;
        }

        if (value is ConfigScalar { ValueType: ConfigValueType.Null })
        {
            throw new ConfigurationException(value.Origin, $"setting '{path}' is null but must be {expected}");
        }

        T? result = value is ConfigScalar scalar ? convert(scalar) : null;
        return result ?? throw WrongType(path, value, expected, reason?.Invoke());
    }

    internal static bool? ToBoolean(ConfigScalar scalar) => scalar.ValueType switch
    {
        ConfigValueType.Boolean => scalar.Text == "true",
        ConfigValueType.String => scalar.Text switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            _ => null,
        },
        _ => null,
    };

    internal static long? ToLong(ConfigScalar scalar) =>
        scalar.ValueType is ConfigValueType.Number or ConfigValueType.String ? ConfigScalar.ParseLong(scalar.Text) : null;

    internal static double? ToDouble(ConfigScalar scalar) =>
        scalar.ValueType is ConfigValueType.Number or ConfigValueType.String ? ConfigScalar.ParseDouble(scalar.Text) : null;
}
