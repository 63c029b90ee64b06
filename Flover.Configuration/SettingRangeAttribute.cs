using System.Reflection;

namespace Flover.Configuration;

/// <summary>
/// Declares, on the property of a settings record that holds it, which <c>flover.*</c> setting a
/// count, duration or size comes from and the range it must lie in. <see cref="FloverSettings.From"/>
/// reads every such setting through its declaration, so the range checked at start-up is the one
/// written here, and a start-up failure is one line naming the key, the value and the range.
/// </summary>
/// <param name="path">The setting's HOCON path, e.g. <c>flover.engine.kv-slots</c>.</param>
/// <param name="minimum">The smallest valid value, as HOCON writes it in the setting's unit (<c>1</c>, <c>100ms</c>, <c>1KiB</c>).</param>
/// <param name="maximum">The largest valid value, written the same way.</param>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class SettingRangeAttribute(string path, string minimum, string maximum) : Attribute
{
    /// <summary>The setting's HOCON path.</summary>
    public string Path { get; } = path;

    /// <summary>The smallest valid value, in HOCON's spelling.</summary>
    public string Minimum { get; } = minimum;

    /// <summary>The largest valid value, in HOCON's spelling.</summary>
    public string Maximum { get; } = maximum;

    /// <summary>A word accepted instead of a number (<c>per-request</c> for the instance count), or null.</summary>
    public string? Word { get; init; }

    /// <summary>Every declaration on <see cref="FloverSettings"/>' records (engine, scheduler, HTTP, parallelism), for documentation and tests.</summary>
    public static IReadOnlyList<SettingRangeAttribute> Declared { get; } =
    [
        .. typeof(FloverSettings).GetProperties()
            .SelectMany(settings => settings.PropertyType.GetProperties())
            .Select(property => property.GetCustomAttribute<SettingRangeAttribute>())
            .OfType<SettingRangeAttribute>(),
    ];

    /// <summary>The declaration on <paramref name="property"/> of <typeparamref name="TSettings"/>.</summary>
    /// <exception cref="InvalidOperationException">The property has no declaration (a bug of ours: every count, duration and size setting needs one).</exception>
    public static SettingRangeAttribute Of<TSettings>(string property) =>
        typeof(TSettings).GetProperty(property)?.GetCustomAttribute<SettingRangeAttribute>()
        ?? throw new InvalidOperationException($"{typeof(TSettings).Name}.{property} declares no [SettingRange].");
}
