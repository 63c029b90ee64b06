using System.Globalization;

namespace Flover.Configuration;

/// <summary>Typed reads of required settings with range and word checks; messages name the path and where it was set.</summary>
internal sealed class SettingsReader
{
    private readonly Config _config;

    public SettingsReader(Config config)
    {
        _config = config;
    }

    public string Required(string path) =>
        _config.GetString(path) ?? throw new ConfigurationException(null, $"setting '{path}' is missing or null (its default is in reference.conf)");

    public string Word(string path, IReadOnlyList<string> allowed)
    {
        ConfigValue value = Value(path);
        string word = Required(path);
        return allowed.Contains(word, StringComparer.Ordinal)
            ? word
            : throw new ConfigurationException(value.Origin, $"setting '{path}' must be one of {string.Join(", ", allowed)} but is '{word}'");
    }

    /// <summary>
    /// A device: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (N a device number), case and surrounding
    /// blanks ignored, as <c>Flover.Gpu</c>'s <c>DeviceSpec.Parse</c> reads it (this project depends
    /// on nothing of ours, so the rule is repeated here; a host test keeps the two in step).
    /// </summary>
    public string Device(string path)
    {
        ConfigValue value = Value(path);
        string raw = Required(path);
        string device = raw.Trim().ToLowerInvariant();
        bool valid = device is "cpu" or "cuda"
            || (device.StartsWith("cuda:", StringComparison.Ordinal) && device.Length > 5 && device.AsSpan(5).IndexOfAnyExceptInRange('0', '9') < 0 && int.TryParse(device.AsSpan(5), out _));
        return valid
            ? device
            : throw new ConfigurationException(value.Origin, $"setting '{path}' must be cpu, cuda or cuda:N (N a device number) but is '{raw}'");
    }

    /// <summary>The count declared on <paramref name="property"/> of <typeparamref name="TSettings"/>, checked against its declared range.</summary>
    public int Int<TSettings>(string property)
    {
        SettingRangeAttribute range = SettingRangeAttribute.Of<TSettings>(property);
        ConfigValue value = Value(range.Path);
        int result = _config.GetInt(range.Path);
        return InRange(range, value, result, int.Parse(range.Minimum, CultureInfo.InvariantCulture), int.Parse(range.Maximum, CultureInfo.InvariantCulture));
    }

    /// <summary>The count declared on <paramref name="property"/>, or null when the setting is the declaration's word.</summary>
    public int? IntOrWord<TSettings>(string property)
    {
        SettingRangeAttribute range = SettingRangeAttribute.Of<TSettings>(property);
        return Required(range.Path).Trim() == range.Word ? null : Int<TSettings>(property);
    }

    /// <summary>The duration declared on <paramref name="property"/>, checked against its declared range.</summary>
    public TimeSpan Duration<TSettings>(string property)
    {
        SettingRangeAttribute range = SettingRangeAttribute.Of<TSettings>(property);
        ConfigValue value = Value(range.Path);
        TimeSpan result = _config.GetTimeSpan(range.Path, allowInfinite: false);
        return InRange(range, value, result, Literal(range.Minimum).GetTimeSpan("v"), Literal(range.Maximum).GetTimeSpan("v"));
    }

    /// <summary>The size in bytes declared on <paramref name="property"/>, checked against its declared range.</summary>
    public long Size<TSettings>(string property)
    {
        SettingRangeAttribute range = SettingRangeAttribute.Of<TSettings>(property);
        ConfigValue value = Value(range.Path);
        long result = _config.GetByteSize(range.Path) ?? 0;
        return InRange(range, value, result, Literal(range.Minimum).GetByteSize("v") ?? 0, Literal(range.Maximum).GetByteSize("v") ?? 0);
    }

    private static T InRange<T>(SettingRangeAttribute range, ConfigValue value, T result, T minimum, T maximum)
        where T : IComparable<T>
    {
        if (result.CompareTo(minimum) >= 0 && result.CompareTo(maximum) <= 0)
        {
            return result;
        }

        string written = value is ConfigScalar scalar ? scalar.Text : Convert.ToString(result, CultureInfo.InvariantCulture)!;
        string word = range.Word is null ? string.Empty : $" (or {range.Word})";
        throw new ConfigurationException(value.Origin, $"setting '{range.Path}' must be between {range.Minimum} and {range.Maximum}{word} but is {written}");
    }

    private static Config Literal(string hocon) => ConfigurationFactory.ParseString($"v = {hocon}");

    private ConfigValue Value(string path) =>
        _config.GetValue(path) ?? throw new ConfigurationException(null, $"setting '{path}' is missing (its default is in reference.conf)");
}
