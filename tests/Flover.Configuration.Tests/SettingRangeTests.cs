using System.Globalization;
using System.Reflection;

namespace Flover.Configuration.Tests;

/// <summary>
/// Every count, duration and size of the settings records declares its setting and range
/// (<see cref="SettingRangeAttribute"/>), and start-up holds each one to it. The cases are derived
/// from the records by reflection and matched against reference.conf's numeric settings, so a
/// setting added later without a range, or read without its declaration, fails here.
/// </summary>
public sealed class SettingRangeTests
{
    private static readonly Type[] s_records = [.. typeof(FloverSettings).GetProperties().Select(p => p.PropertyType).Where(t => t.Namespace == typeof(FloverSettings).Namespace)];

    public static TheoryData<string, string, string> Edges()
    {
        var data = new TheoryData<string, string, string>();
        foreach (SettingRangeAttribute range in SettingRangeAttribute.Declared)
        {
            (string below, string above) = Outside(range);
            string word = range.Word is null ? string.Empty : $" (or {range.Word})";
            string expected = $"setting '{range.Path}' must be between {range.Minimum} and {range.Maximum}{word} but is ";
            data.Add(range.Path, below, expected + below);
            data.Add(range.Path, above, expected + above);
        }

        return data;
    }

    public static TheoryData<string, string> Bounds()
    {
        var data = new TheoryData<string, string>();
        foreach (SettingRangeAttribute range in SettingRangeAttribute.Declared)
        {
            data.Add(range.Path, range.Minimum);
            data.Add(range.Path, range.Maximum);
        }

        return data;
    }

    [Fact]
    public void Every_count_duration_and_size_of_the_settings_records_declares_its_range()
    {
        Type[] numericTypes = [typeof(int), typeof(long), typeof(TimeSpan)];
        PropertyInfo[] numeric = [.. s_records.SelectMany(t => t.GetProperties()).Where(p => numericTypes.Contains(Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType))];

        Assert.NotEmpty(numeric);
        Assert.All(numeric, p => Assert.True(p.GetCustomAttribute<SettingRangeAttribute>() is not null, $"{p.DeclaringType!.Name}.{p.Name} declares no [SettingRange]"));
    }

    [Fact]
    public void The_declared_settings_are_exactly_reference_conf_s_numeric_settings()
    {
        string[] declared = [.. SettingRangeAttribute.Declared.Select(range => range.Path).Order(StringComparer.Ordinal)];
        string[] inReference = [.. FloverConfigurationTests.NumericSettings().Select(row => (string)row[0]).Order(StringComparer.Ordinal)];

        Assert.Equal(inReference, declared);
    }

    [Theory]
    [MemberData(nameof(Edges))]
    public void A_value_outside_the_declared_range_fails_at_start_up_in_one_line_naming_key_value_and_range(string path, string value, string expected)
    {
        var error = Assert.Throws<ConfigurationException>(() => FloverSettings.From(Load($"{path} = {value}")));

        Assert.EndsWith(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [MemberData(nameof(Bounds))]
    public void Both_ends_of_the_declared_range_are_accepted(string path, string value)
    {
        FloverSettings settings = FloverSettings.From(Load($"{path} = {value}"));

        Assert.NotNull(settings);
    }

    /// <summary>The values just outside a range, in the setting's unit: one less and one more (a millisecond, a byte).</summary>
    private static (string Below, string Above) Outside(SettingRangeAttribute range)
    {
        Config bounds = ConfigurationFactory.ParseString($"min = {range.Minimum}\nmax = {range.Maximum}");
        if (char.IsDigit(range.Minimum[^1]) && char.IsDigit(range.Maximum[^1]))
        {
            return (Text(bounds.GetLong("min") - 1), Text(bounds.GetLong("max") + 1));
        }

        if (range.Minimum.EndsWith('B') || range.Maximum.EndsWith('B'))
        {
            return (Text(bounds.GetByteSize("min")!.Value - 1), Text(bounds.GetByteSize("max")!.Value + 1));
        }

        return (Text((long)bounds.GetTimeSpan("min").TotalMilliseconds - 1) + "ms", Text((long)bounds.GetTimeSpan("max").TotalMilliseconds + 1) + "ms");
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    // An empty working directory and environment: only reference.conf and the one override.
    private static readonly string s_emptyDirectory = Directory.CreateTempSubdirectory("flover-ranges-").FullName;

    private static Config Load(string set) => FloverConfiguration.Load(new ConfigurationSources { Overrides = [set], WorkingDirectory = s_emptyDirectory, Environment = _ => null });
}
