using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Flover.Configuration;

/// <summary>
/// An object: fields in the order they were first written. Immutable; merging two objects
/// (duplicate keys, includes, <see cref="Config.WithFallback"/>) builds a new one.
/// </summary>
public sealed class ConfigObject : ConfigValue, IReadOnlyDictionary<string, ConfigValue>
{
    private readonly OrderedDictionary<string, ConfigValue> _fields;
    private readonly bool _isResolved;

    internal ConfigObject(ConfigOrigin origin, OrderedDictionary<string, ConfigValue> fields)
        : base(origin)
    {
        _fields = fields;
        _isResolved = fields.Values.All(v => v.IsResolved);
    }

    /// <summary>An empty object with no origin in any file.</summary>
    public static ConfigObject Empty { get; } = new(ConfigOrigin.Code, new OrderedDictionary<string, ConfigValue>());

    /// <inheritdoc/>
    public override ConfigValueType ValueType => ConfigValueType.Object;

    internal override bool IsResolved => _isResolved;

    internal override ConfigValue WithOrigin(ConfigOrigin origin) => new ConfigObject(origin, _fields);

    /// <summary>The field names, in the order they were first written.</summary>
    public IEnumerable<string> Keys => _fields.Keys;

    /// <summary>The field values, in key order.</summary>
    public IEnumerable<ConfigValue> Values => _fields.Values;

    /// <summary>The number of fields.</summary>
    public int Count => _fields.Count;

    /// <summary>The value of field <paramref name="key"/> (a single key, not a path).</summary>
    public ConfigValue this[string key] => _fields[key];

    /// <summary>Whether the object has a field named <paramref name="key"/>.</summary>
    public bool ContainsKey(string key) => _fields.ContainsKey(key);

    /// <summary>Looks up field <paramref name="key"/> (a single key, not a path).</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out ConfigValue value) => _fields.TryGetValue(key, out value);

    /// <summary>Enumerates the fields in order.</summary>
    public IEnumerator<KeyValuePair<string, ConfigValue>> GetEnumerator() => _fields.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A copy of the fields, for building a changed object.</summary>
    internal OrderedDictionary<string, ConfigValue> CopyFields() => new(_fields);

    /// <summary>Returns this object with every field replaced by <paramref name="map"/>'s result; null drops the field.</summary>
    internal ConfigObject MapFields(Func<string, ConfigValue, ConfigValue?> map)
    {
        var fields = new OrderedDictionary<string, ConfigValue>(_fields.Count);
        foreach (KeyValuePair<string, ConfigValue> field in _fields)
        {
            ConfigValue? mapped = map(field.Key, field.Value);
            if (mapped is not null)
            {
                fields.Add(field.Key, mapped);
            }
        }

        return new ConfigObject(Origin, fields);
    }
}
