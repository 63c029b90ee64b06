using System.Collections;

namespace Flover.Configuration;

/// <summary>An array of values (possibly of mixed types, as the HOCON specification allows). Immutable.</summary>
public sealed class ConfigList : ConfigValue, IReadOnlyList<ConfigValue>
{
    private readonly ConfigValue[] _items;
    private readonly bool _isResolved;

    internal ConfigList(ConfigOrigin origin, IEnumerable<ConfigValue> items)
        : base(origin)
    {
        _items = items.ToArray();
        _isResolved = _items.All(v => v.IsResolved);
    }

    /// <inheritdoc/>
    public override ConfigValueType ValueType => ConfigValueType.List;

    internal override bool IsResolved => _isResolved;

    internal override ConfigValue WithOrigin(ConfigOrigin origin) => new ConfigList(origin, _items);

    /// <summary>The number of elements.</summary>
    public int Count => _items.Length;

    /// <summary>The element at <paramref name="index"/>.</summary>
    public ConfigValue this[int index] => _items[index];

    /// <summary>Enumerates the elements in order.</summary>
    public IEnumerator<ConfigValue> GetEnumerator() => ((IEnumerable<ConfigValue>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
