namespace Flover.Configuration.Tests;

/// <summary>
/// The reference implementation's core conformance suite: in every equivNN folder, each
/// .conf/.json file (resolved against itself only) equals original.json.
/// </summary>
public sealed class EquivalenceTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach ((string folder, string file) in Files())
        {
            data.Add(folder, file);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Equivalent_file_resolves_to_the_same_tree_as_original_json(string folder, string file)
    {
        string directory = ConformanceData.Resource(folder);
        ConfigObject original = ConformanceData.ParseDocumentOnly(Path.Combine(directory, "original.json"));
        ConfigObject actual = ConformanceData.ParseDocumentOnly(Path.Combine(directory, file));

        Assert.Null(ConfigTree.Difference(original, actual));
    }

    [Fact]
    public void The_suite_has_the_reference_count_of_five_folders_and_fifteen_files()
    {
        List<(string Folder, string File)> files = Files().ToList();

        Assert.Equal(5, files.Select(f => f.Folder).Distinct().Count());
        Assert.Equal(15, files.Count);
    }

    private static IEnumerable<(string Folder, string File)> Files() =>
        Directory.GetDirectories(ConformanceData.Lightbend, "equiv*")
            .OrderBy(d => d, StringComparer.Ordinal)
            .SelectMany(d => Directory.GetFiles(d)
                .Where(f => f.EndsWith(".conf", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
                .Where(f => !Path.GetFileName(f).StartsWith("original.", StringComparison.Ordinal))
                .OrderBy(f => f, StringComparer.Ordinal)
                .Select(f => (Path.GetFileName(d), Path.GetFileName(f))));
}
