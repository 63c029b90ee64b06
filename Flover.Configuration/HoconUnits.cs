using System.Globalization;

namespace Flover.Configuration;

/// <summary>
/// Durations and sizes as the HOCON specification defines them: a number (the default unit:
/// milliseconds, bytes) or a string of a number and an optional unit, whitespace allowed
/// between. Akka.NET's <c>infinite</c> duration is accepted where the caller allows it.
/// </summary>
internal static class HoconUnits
{
    private static readonly Dictionary<string, decimal> s_nanosPerUnit = BuildDurationUnits();
    private static readonly Dictionary<string, decimal> s_bytesPerUnit = BuildSizeUnits();

    /// <summary>Converts a duration value; returns null (with a reason) when it is not one.</summary>
    public static TimeSpan? ParseDuration(ConfigScalar value, bool allowInfinite, out string? problem)
    {
        problem = null;
        if (value.ValueType == ConfigValueType.String && value.Text.Trim().Equals("infinite", StringComparison.OrdinalIgnoreCase))
        {
            if (allowInfinite)
            {
                return Timeout.InfiniteTimeSpan;
            }

            problem = "infinite is not allowed here; give a finite duration such as 10s";
            return null;
        }

        if (!TrySplit(value, "ms", out decimal number, out string unit, out problem))
        {
            return null;
        }

        if (!s_nanosPerUnit.TryGetValue(unit, out decimal nanos))
        {
            problem = $"unknown duration unit '{unit}' (use ns, us, ms, s, m, h or d, or their long names)";
            return null;
        }

        try
        {
            decimal ticks = decimal.Truncate(number * nanos / 100m);
            if (ticks is > long.MaxValue or < long.MinValue)
            {
                problem = "the duration is too long to represent";
                return null;
            }

            return TimeSpan.FromTicks((long)ticks);
        }
        catch (OverflowException)
        {
            problem = "the duration is too long to represent";
            return null;
        }
    }

    /// <summary>Converts a size in bytes; returns null (with a reason) when it is not one or does not fit 64 bits.</summary>
    public static long? ParseBytes(ConfigScalar value, out string? problem)
    {
        if (!TrySplit(value, string.Empty, out decimal number, out string unit, out problem))
        {
            return null;
        }

        if (!s_bytesPerUnit.TryGetValue(unit, out decimal multiplier))
        {
            problem = $"unknown size unit '{unit}' (use B, K/KiB (1024), kB (1000), M/MiB, MB, G/GiB, GB, ... or their long names)";
            return null;
        }

        try
        {
            decimal bytes = decimal.Truncate(number * multiplier);
            if (bytes is > long.MaxValue or < long.MinValue)
            {
                problem = "the size does not fit in 64 bits";
                return null;
            }

            return (long)bytes;
        }
        catch (OverflowException)
        {
            problem = "the size does not fit in 64 bits";
            return null;
        }
    }

    private static bool TrySplit(ConfigScalar value, string defaultUnit, out decimal number, out string unit, out string? problem)
    {
        number = 0;
        unit = defaultUnit;
        problem = null;
        if (value.ValueType is not (ConfigValueType.Number or ConfigValueType.String))
        {
            problem = "it is not a number or a string";
            return false;
        }

        string text = value.Text.Trim();
        int end = text.Length;
        while (end > 0 && char.IsAsciiLetter(text[end - 1]))
        {
            end--;
        }

        string numberText = text[..end].Trim();
        if (end < text.Length)
        {
            unit = text[end..];
        }

        if (numberText.Length == 0 || !decimal.TryParse(numberText, NumberStyles.Float, CultureInfo.InvariantCulture, out number))
        {
            problem = numberText.Length == 0 ? "no number before the unit" : $"'{numberText}' is not a number";
            return false;
        }

        return true;
    }

    private static Dictionary<string, decimal> BuildDurationUnits()
    {
        var units = new Dictionary<string, decimal>(StringComparer.Ordinal);
        void Add(decimal nanos, params string[] names)
        {
            foreach (string name in names)
            {
                units[name] = nanos;
            }
        }

        Add(1m, "ns", "nano", "nanos", "nanosecond", "nanoseconds");
        Add(1_000m, "us", "micro", "micros", "microsecond", "microseconds");
        Add(1_000_000m, "ms", "milli", "millis", "millisecond", "milliseconds");
        Add(1_000_000_000m, "s", "second", "seconds");
        Add(60_000_000_000m, "m", "minute", "minutes");
        Add(3_600_000_000_000m, "h", "hour", "hours");
        Add(86_400_000_000_000m, "d", "day", "days");
        return units;
    }

    private static Dictionary<string, decimal> BuildSizeUnits()
    {
        var units = new Dictionary<string, decimal>(StringComparer.Ordinal) { [string.Empty] = 1m, ["B"] = 1m, ["b"] = 1m, ["byte"] = 1m, ["bytes"] = 1m };
        string[] decimalPrefixes = ["k", "M", "G", "T", "P", "E", "Z", "Y"];
        string[] decimalNames = ["kilo", "mega", "giga", "tera", "peta", "exa", "zetta", "yotta"];
        string[] binaryNames = ["kibi", "mebi", "gibi", "tebi", "pebi", "exbi", "zebi", "yobi"];
        decimal power10 = 1m;
        decimal power2 = 1m;
        for (int i = 0; i < decimalPrefixes.Length; i++)
        {
            power10 *= 1000m;
            power2 *= 1024m;
            string upper = decimalPrefixes[i].ToUpperInvariant();
            units[decimalPrefixes[i] + "B"] = power10;
            units[decimalNames[i] + "byte"] = power10;
            units[decimalNames[i] + "bytes"] = power10;
            units[upper] = power2;
            units[upper.ToLowerInvariant()] = power2;
            units[upper + "i"] = power2;
            units[upper + "iB"] = power2;
            units[binaryNames[i] + "byte"] = power2;
            units[binaryNames[i] + "bytes"] = power2;
        }

        return units;
    }
}
