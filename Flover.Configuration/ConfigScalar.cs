using System.Globalization;

namespace Flover.Configuration;

/// <summary>
/// A string, number, boolean or null. Numbers keep their original spelling (<c>42.0</c> stays
/// <c>42.0</c> when concatenated into a string); conversions happen on demand, as the HOCON
/// specification prescribes (a string <c>"57"</c> reads as a number, <c>yes</c> and <c>on</c> as true).
/// </summary>
public sealed class ConfigScalar : ConfigValue
{
    private readonly ConfigValueType _type;

    private ConfigScalar(ConfigOrigin origin, ConfigValueType type, string text, bool isQuoted, bool isWhitespace)
        : base(origin)
    {
        _type = type;
        Text = text;
        IsQuoted = isQuoted;
        IsWhitespace = isWhitespace;
    }

    /// <summary>The value as text: a string's content, a number's spelling, <c>true</c>, <c>false</c> or <c>null</c>.</summary>
    public string Text { get; }

    /// <inheritdoc/>
    public override ConfigValueType ValueType => _type;

    /// <summary>Whether the string was written in quotes (quoted whitespace is significant in concatenations).</summary>
    internal bool IsQuoted { get; }

    /// <summary>Whether this is unquoted whitespace between two concatenated values (dropped around objects and lists).</summary>
    internal bool IsWhitespace { get; }

    internal override bool IsResolved => true;

    internal override ConfigValue WithOrigin(ConfigOrigin origin) => new ConfigScalar(origin, _type, Text, IsQuoted, IsWhitespace);

    internal static ConfigScalar String(ConfigOrigin origin, string text, bool isQuoted = true) => new(origin, ConfigValueType.String, text, isQuoted, false);

    internal static ConfigScalar Whitespace(ConfigOrigin origin, string text) => new(origin, ConfigValueType.String, text, false, true);

    internal static ConfigScalar Number(ConfigOrigin origin, string text) => new(origin, ConfigValueType.Number, text, false, false);

    internal static ConfigScalar Boolean(ConfigOrigin origin, bool value) => new(origin, ConfigValueType.Boolean, value ? "true" : "false", false, false);

    internal static ConfigScalar Null(ConfigOrigin origin) => new(origin, ConfigValueType.Null, "null", false, false);

    /// <summary>Reads a number's text as a long when it is integral and fits, else null.</summary>
    internal static long? ParseLong(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value : null;

    /// <summary>Reads a number's text as a double (JSON number syntax, plus a leading <c>+</c> or <c>.</c> as the spec's string conversions allow).</summary>
    internal static double? ParseDouble(string text) =>
        text.Length > 0 && !char.IsWhiteSpace(text[0]) && !char.IsWhiteSpace(text[^1])
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            && double.IsFinite(value)
            ? value
            : null;
}
