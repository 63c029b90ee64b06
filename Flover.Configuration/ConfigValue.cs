namespace Flover.Configuration;

/// <summary>The JSON type of a resolved configuration value.</summary>
public enum ConfigValueType
{
    /// <summary>An object: named fields (<see cref="ConfigObject"/>).</summary>
    Object,

    /// <summary>An array (<see cref="ConfigList"/>).</summary>
    List,

    /// <summary>A string, quoted or not (<see cref="ConfigScalar"/>).</summary>
    String,

    /// <summary>A number, kept in its original spelling (<see cref="ConfigScalar"/>).</summary>
    Number,

    /// <summary><c>true</c> or <c>false</c> (<see cref="ConfigScalar"/>).</summary>
    Boolean,

    /// <summary>An explicit <c>null</c>, distinct from a missing value (<see cref="ConfigScalar"/>).</summary>
    Null,
}

/// <summary>
/// A configuration value with the origin it was written at. Resolved values are immutable
/// objects, lists and scalars; while a document is being parsed, substitutions,
/// concatenations and delayed merges (internal types) stand in for values not known yet.
/// </summary>
public abstract class ConfigValue
{
    private protected ConfigValue(ConfigOrigin origin)
    {
        Origin = origin;
    }

    /// <summary>Where the value was written.</summary>
    public ConfigOrigin Origin { get; }

    /// <summary>The value's JSON type.</summary>
    public abstract ConfigValueType ValueType { get; }

    /// <summary>Whether the value (and everything inside it) is free of substitutions.</summary>
    internal abstract bool IsResolved { get; }

    /// <summary>Returns the same value with another origin (used to attach the comments written above a field).</summary>
    internal abstract ConfigValue WithOrigin(ConfigOrigin origin);

    /// <summary>Renders the value as HOCON (objects as a braced block).</summary>
    public override string ToString() => HoconRenderer.RenderValue(this, HoconRenderOptions.Hocon);

    /// <summary>Renders the value as JSON (numbers in canonical JSON form).</summary>
    public string ToJson() => HoconRenderer.RenderValue(this, HoconRenderOptions.Json);

    /// <summary>A short description of the value for error messages, e.g. <c>string "abc"</c>.</summary>
    internal string Describe() => this switch
    {
        ConfigScalar { ValueType: ConfigValueType.String } s => $"string \"{Shorten(s.Text)}\"",
        ConfigScalar { ValueType: ConfigValueType.Null } => "null",
        ConfigScalar s => $"{s.ValueType.ToString().ToLowerInvariant()} {s.Text}",
        ConfigObject => "an object",
        ConfigList => "a list",
        _ => "an unresolved value",
    };

    private static string Shorten(string text) => text.Length <= 60 ? text : string.Concat(text.AsSpan(0, 57), "...");
}

/// <summary>A placeholder type for values that exist only before substitutions are resolved.</summary>
internal abstract class UnresolvedValue : ConfigValue
{
    protected UnresolvedValue(ConfigOrigin origin)
        : base(origin)
    {
    }

    public override ConfigValueType ValueType => throw new InvalidOperationException("An unresolved value has no type until substitutions are resolved.");

    internal override bool IsResolved => false;

    /// <summary>Returns a copy whose substitutions are also looked up under <paramref name="prefix"/> (an include point).</summary>
    internal abstract ConfigValue Relativize(IReadOnlyList<string> prefix);
}
