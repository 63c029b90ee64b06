namespace Flover.Configuration.Tests;

/// <summary>Paths into the copied conformance data and helpers to load it the way the reference suite does.</summary>
internal static class ConformanceData
{
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "TestData", "hocon-conformance");

    public static string Lightbend { get; } = Path.Combine(Root, "lightbend-config", "resources");

    public static string TestLib { get; } = Path.Combine(Root, "lightbend-config", "test-lib-resources");

    public static string Resource(string name) => Path.Combine(Lightbend, name);

    /// <summary>Parses and resolves a file against itself only (no environment), as the equivalence suite requires.</summary>
    public static ConfigObject ParseDocumentOnly(string path, IncludeSettings? settings = null) =>
        HoconResolver.Resolve(HoconLoader.ParseFileUnresolved(path, settings), ResolveOptions.DocumentOnly);

    /// <summary>Parses and resolves with a fake environment.</summary>
    public static Config ParseWithEnvironment(string path, IReadOnlyDictionary<string, string> environment, IncludeSettings? settings = null) =>
        new(HoconResolver.Resolve(HoconLoader.ParseFileUnresolved(path, settings), new ResolveOptions(true, name => environment.GetValueOrDefault(name))));

    public static Config Parse(string path, IncludeSettings? settings = null) => new(ParseDocumentOnly(path, settings));

    /// <summary>Class path for the reference tests: the main resources, then the test library's resources.</summary>
    public static IncludeSettings Classpath { get; } = new([Lightbend, TestLib]);
}
