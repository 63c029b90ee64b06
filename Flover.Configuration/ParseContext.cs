namespace Flover.Configuration;

/// <summary>
/// Settings that apply to a whole parse, includes included: where <c>classpath(...)</c>
/// resources are looked for (our stand-in for the JVM class path) and how deep includes may nest.
/// </summary>
/// <param name="ClasspathRoots">Folders searched, in order, for <c>classpath(...)</c> includes and as the fallback of heuristic includes.</param>
internal sealed record IncludeSettings(IReadOnlyList<string> ClasspathRoots)
{
    /// <summary>Includes deeper than this are reported as a cycle ("include nested too deep").</summary>
    public const int MaxDepth = 50;

    /// <summary>The executable's own folder is the class path.</summary>
    public static IncludeSettings Default { get; } = new([AppContext.BaseDirectory]);
}

/// <summary>The document being parsed: its name for messages, its folder for relative includes, and the include depth.</summary>
/// <param name="Description">A file path, or a description such as <c>string</c> or <c>--set</c>.</param>
/// <param name="Directory">The folder relative includes resolve against; null for text that is not a file.</param>
/// <param name="Settings">Include settings shared by every nested include.</param>
/// <param name="Depth">How many includes led to this document.</param>
internal sealed record ParseContext(string Description, string? Directory, IncludeSettings Settings, int Depth)
{
    /// <summary>A context for text given directly (no folder: relative includes go to the class path).</summary>
    public static ParseContext ForText(string description, IncludeSettings? settings = null) => new(description, null, settings ?? IncludeSettings.Default, 0);

    /// <summary>A context for the file at <paramref name="path"/>.</summary>
    public static ParseContext ForFile(string path, IncludeSettings? settings = null, int depth = 0)
    {
        string full = Path.GetFullPath(path);
        return new ParseContext(full, Path.GetDirectoryName(full), settings ?? IncludeSettings.Default, depth);
    }
}
