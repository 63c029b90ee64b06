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

    public int Int(string path, int min, int max = int.MaxValue, string? also = null)
    {
        ConfigValue value = Value(path);
        int result = _config.GetInt(path);
        if (result < min || result > max)
        {
            string range = max == int.MaxValue ? $"at least {min}" : $"between {min} and {max}";
            throw new ConfigurationException(value.Origin, $"setting '{path}' must be {range}{(also is null ? string.Empty : $" (or {also})")} but is {result}");
        }

        return result;
    }

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

    public TimeSpan Duration(string path)
    {
        ConfigValue value = Value(path);
        TimeSpan result = _config.GetTimeSpan(path, allowInfinite: false);
        return result >= TimeSpan.Zero ? result : throw new ConfigurationException(value.Origin, $"setting '{path}' must not be negative but is {result}");
    }

    public TimeSpan PositiveDuration(string path)
    {
        ConfigValue value = Value(path);
        TimeSpan result = Duration(path);
        return result > TimeSpan.Zero ? result : throw new ConfigurationException(value.Origin, $"setting '{path}' must be longer than zero but is {result}");
    }

    public long Size(string path)
    {
        ConfigValue value = Value(path);
        long result = _config.GetByteSize(path) ?? 0;
        return result >= 0 ? result : throw new ConfigurationException(value.Origin, $"setting '{path}' must not be negative but is {result}");
    }

    private ConfigValue Value(string path) =>
        _config.GetValue(path) ?? throw new ConfigurationException(null, $"setting '{path}' is missing (its default is in reference.conf)");
}
