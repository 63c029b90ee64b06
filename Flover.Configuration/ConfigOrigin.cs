namespace Flover.Configuration;

/// <summary>
/// Where a configuration value was written: a file (or another named source such as
/// <c>--set</c> or a string) and a 1-based line and column. Every error message and every
/// wrong-type report names it, so a user can go straight to the offending text.
/// </summary>
/// <param name="Description">The file path, or a description of a non-file source (for example <c>string</c>).</param>
/// <param name="Line">The 1-based line, or 0 when the position is unknown.</param>
/// <param name="Column">The 1-based column, or 0 when the position is unknown.</param>
public sealed record ConfigOrigin(string Description, int Line, int Column)
{
    /// <summary>The origin of values built in code rather than read from text.</summary>
    public static ConfigOrigin Code { get; } = new("code", 0, 0);

    /// <summary>The comment lines written directly above the field in its source (without <c>#</c> or <c>//</c>).</summary>
    public IReadOnlyList<string> Comments { get; init; } = [];

    /// <summary>Renders the origin as <c>file:line:column</c> (or just the description when the position is unknown).</summary>
    public override string ToString() => Line > 0 ? $"{Description}:{Line}:{Column}" : Description;
}
