namespace Flover.Configuration;

/// <summary>
/// A resolved configuration, read with Akka.NET's API: typed getters by path
/// (<c>akka.actor.default-dispatcher.throughput</c>), sub-configurations and fallbacks.
/// Getters return their default when the path is missing and throw a
/// <see cref="ConfigurationException"/> naming the path and where the value was written when it
/// has the wrong type (or is an explicit <c>null</c> where a value is required).
/// </summary>
public sealed partial class Config
{
    /// <summary>Wraps a resolved root object.</summary>
    internal Config(ConfigObject root)
    {
        if (!root.IsResolved)
        {
            throw new ArgumentException("A Config holds only resolved values.", nameof(root));
        }

        Root = root;
    }

    /// <summary>A configuration with no settings.</summary>
    public static Config Empty { get; } = new(ConfigObject.Empty);

    /// <summary>The root object with every setting.</summary>
    public ConfigObject Root { get; }

    /// <summary>Whether there are no settings at all.</summary>
    public bool IsEmpty => Root.Count == 0;

    /// <summary>
    /// Returns this configuration with <paramref name="fallback"/> underneath: values of this one
    /// win, objects present in both merge field by field (the HOCON duplicate-key rule).
    /// </summary>
    public Config WithFallback(Config fallback)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        if (fallback.IsEmpty)
        {
            return this;
        }

        return IsEmpty ? fallback : new Config(ConfigMerge.MergeObjects(fallback.Root, Root));
    }

    /// <summary>Whether <paramref name="path"/> holds a value (an explicit <c>null</c> counts as absent, as in HOCON).</summary>
    public bool HasPath(string path) => GetValue(path) is { } value && value.ValueType != ConfigValueType.Null;

    /// <summary>The value at <paramref name="path"/>, or null when the path is missing.</summary>
    public ConfigValue? GetValue(string path)
    {
        IReadOnlyList<string> elements = ParsePath(path);
        ConfigValue current = Root;
        foreach (string element in elements)
        {
            if (current is not ConfigObject obj || !obj.TryGetValue(element, out ConfigValue? child))
            {
                return null;
            }

            current = child;
        }

        return current;
    }

    /// <summary>
    /// The object at <paramref name="path"/> as a configuration of its own; empty when the path
    /// is missing or null; an error when the value is not an object.
    /// </summary>
    public Config GetConfig(string path)
    {
        ConfigValue? value = GetValue(path);
        return value switch
        {
            null or ConfigScalar { ValueType: ConfigValueType.Null } => Empty,
            ConfigObject obj => new Config(obj),
            _ => throw WrongType(path, value, "an object"),
        };
    }

    /// <summary>Every leaf setting as (path, value) pairs, depth first in key order; lists are leaves.</summary>
    public IEnumerable<KeyValuePair<string, ConfigValue>> AsEnumerable() => Leaves(Root, []);

    /// <summary>Renders the whole configuration as HOCON that parses back to the same values.</summary>
    public override string ToString() => HoconRenderer.RenderDocument(Root, HoconRenderOptions.Hocon);

    /// <summary>Renders the whole configuration as JSON.</summary>
    public string ToJson() => HoconRenderer.RenderValue(Root, HoconRenderOptions.Json);

    internal static IReadOnlyList<string> ParsePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return HoconPath.Parse(path);
    }

    internal static ConfigurationException WrongType(string path, ConfigValue value, string expected, string? reason = null) =>
        new(value.Origin, $"setting '{path}' must be {expected} but is {value.Describe()}{(reason is null ? string.Empty : $" ({reason})")}");

    private static IEnumerable<KeyValuePair<string, ConfigValue>> Leaves(ConfigObject obj, List<string> prefix)
    {
        foreach (KeyValuePair<string, ConfigValue> field in obj)
        {
            prefix.Add(field.Key);
            if (field.Value is ConfigObject child && child.Count > 0)
            {
                foreach (KeyValuePair<string, ConfigValue> leaf in Leaves(child, prefix))
                {
                    yield return leaf;
                }
            }
            else
            {
                yield return new KeyValuePair<string, ConfigValue>(HoconPath.Render(prefix), field.Value);
            }

            prefix.RemoveAt(prefix.Count - 1);
        }
    }
}
