namespace Flover.Configuration;

/// <summary>
/// <c>${path}</c> or <c>${?path}</c>: a reference to another value, resolved after every
/// merge and include. <see cref="Prefix"/> is the path of the include point when the
/// substitution came from an included file: it is looked up there first, then from the root.
/// </summary>
internal sealed class Substitution : UnresolvedValue
{
    public Substitution(ConfigOrigin origin, IReadOnlyList<string> path, bool isOptional, IReadOnlyList<string> prefix)
        : base(origin)
    {
        Path = path;
        IsOptional = isOptional;
        Prefix = prefix;
    }

    public IReadOnlyList<string> Path { get; }

    public bool IsOptional { get; }

    public IReadOnlyList<string> Prefix { get; }

    /// <summary>The substitution as written, e.g. <c>${?a.b}</c>, for error messages.</summary>
    public string Written => $"${{{(IsOptional ? "?" : string.Empty)}{HoconPath.Render(Path)}}}";

    internal override ConfigValue WithOrigin(ConfigOrigin origin) => new Substitution(origin, Path, IsOptional, Prefix);

    internal override ConfigValue Relativize(IReadOnlyList<string> prefix) =>
        new Substitution(Origin, Path, IsOptional, [.. prefix, .. Prefix]);
}

/// <summary>
/// Values written side by side on one line (<c>${a} "text" ${b}</c>, <c>${x} { y : 1 }</c>,
/// <c>[1] [2]</c>) whose kind is known only once the substitutions in them are resolved.
/// Unquoted whitespace between the pieces is kept as whitespace pieces.
/// </summary>
internal sealed class Concatenation : UnresolvedValue
{
    public Concatenation(ConfigOrigin origin, IReadOnlyList<ConfigValue> pieces)
        : base(origin)
    {
        Pieces = pieces;
    }

    public IReadOnlyList<ConfigValue> Pieces { get; }

    internal override ConfigValue WithOrigin(ConfigOrigin origin) => new Concatenation(origin, Pieces);

    internal override ConfigValue Relativize(IReadOnlyList<string> prefix) =>
        new Concatenation(Origin, Pieces.Select(p => Relativizer.Relativize(p, prefix)).ToArray());
}

/// <summary>
/// Several definitions of one field that cannot be merged before resolution because at least
/// one of them is a substitution or concatenation. <see cref="Stack"/> runs from the newest
/// definition to the oldest; a self-reference in definition i sees the merge of the older ones.
/// </summary>
internal sealed class DelayedMerge : UnresolvedValue
{
    public DelayedMerge(ConfigOrigin origin, IReadOnlyList<ConfigValue> stack)
        : base(origin)
    {
        Stack = stack;
    }

    public IReadOnlyList<ConfigValue> Stack { get; }

    internal override ConfigValue WithOrigin(ConfigOrigin origin) => new DelayedMerge(origin, Stack);

    internal override ConfigValue Relativize(IReadOnlyList<string> prefix) =>
        new DelayedMerge(Origin, Stack.Select(p => Relativizer.Relativize(p, prefix)).ToArray());
}

/// <summary>Re-roots the substitutions of an included document at the include point.</summary>
internal static class Relativizer
{
    public static ConfigValue Relativize(ConfigValue value, IReadOnlyList<string> prefix) => prefix.Count == 0 || value.IsResolved
        ? value
        : value switch
        {
            UnresolvedValue unresolved => unresolved.Relativize(prefix),
            ConfigObject obj => obj.MapFields((_, child) => Relativize(child, prefix)),
            ConfigList list => new ConfigList(list.Origin, list.Select(item => Relativize(item, prefix))),
            _ => value,
        };
}
