using System.Text;

namespace Flover.Configuration.Tests;

/// <summary>
/// hocon/reference.conf documents every setting, and docs/CONFIGURATION.md lists exactly those
/// settings. Run with FLOVER_UPDATE_DOCS=1 to regenerate the list in the document.
/// </summary>
public sealed class ReferenceConfTests
{
    private const string Begin = "<!-- BEGIN GENERATED FROM hocon/reference.conf: do not edit by hand -->";
    private const string End = "<!-- END GENERATED -->";

    [Fact]
    public void Every_setting_in_reference_conf_has_a_one_line_comment()
    {
        List<string> undocumented = Leaves().Where(l => l.Value.Origin.Comments.Count != 1).Select(l => l.Key).ToList();

        Assert.Empty(undocumented);
    }

    [Fact]
    public void The_embedded_reference_conf_is_the_file_in_the_repository()
    {
        Assert.Equal(File.ReadAllText(Path.Combine(RepositoryRoot(), "hocon", "reference.conf")), ReferenceConfig.Text);
    }

    [Fact]
    public void The_settings_list_in_the_documentation_matches_reference_conf()
    {
        string path = Path.Combine(RepositoryRoot(), "docs", "CONFIGURATION.md");
        string document = File.ReadAllText(path);
        int begin = document.IndexOf(Begin, StringComparison.Ordinal);
        int end = document.IndexOf(End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"{path} must contain the markers {Begin} and {End}");

        string expected = Generate();
        string actual = document[(begin + Begin.Length)..end];
        if (actual != expected && Environment.GetEnvironmentVariable("FLOVER_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, string.Concat(document.AsSpan(0, begin + Begin.Length), expected, document.AsSpan(end)));
            actual = expected;
        }

        Assert.True(actual == expected, $"docs/CONFIGURATION.md is out of date with hocon/reference.conf; run the tests with FLOVER_UPDATE_DOCS=1 to regenerate it. Expected:\n{expected}");
    }

    private static List<KeyValuePair<string, ConfigValue>> Leaves() =>
        new Config(HoconResolver.Resolve(ReferenceConfig.Load(), ResolveOptions.DocumentOnly)).AsEnumerable().ToList();

    private static string Generate()
    {
        var text = new StringBuilder("\n");
        foreach (IGrouping<string, KeyValuePair<string, ConfigValue>> section in Leaves().GroupBy(l => Section(l.Key)))
        {
            text.Append("\n### `").Append(section.Key).Append("`\n\n");
            text.Append("| Setting | Default | Meaning |\n| --- | --- | --- |\n");
            foreach (KeyValuePair<string, ConfigValue> leaf in section)
            {
                string value = leaf.Value is ConfigScalar scalar ? scalar.Text : leaf.Value.ToString();
                // An empty string as HOCON writes it: an empty code span would not show.
                value = value.Length == 0 ? "\"\"" : value;
                string meaning = string.Join(" ", leaf.Value.Origin.Comments);
                if (SettingRangeAttribute.Declared.FirstOrDefault(r => r.Path == leaf.Key) is { } range)
                {
                    meaning += $" Valid: {range.Minimum} to {range.Maximum}{(range.Word is null ? string.Empty : $", or {range.Word}")}.";
                }

                text.Append("| `").Append(leaf.Key).Append("` | `").Append(value.Replace("|", "\\|", StringComparison.Ordinal))
                    .Append("` | ").Append(meaning.Replace("|", "\\|", StringComparison.Ordinal)).Append(" |\n");
            }
        }

        return text.Append('\n').ToString();
    }

    /// <summary>The first two path elements (akka.actor, flover.http), or the first alone for top-level keys like akka.loglevel.</summary>
    private static string Section(string path)
    {
        string[] parts = path.Split('.');
        return parts.Length > 2 ? $"{parts[0]}.{parts[1]}" : parts[0];
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Flover.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Flover.sln not found above {AppContext.BaseDirectory}");
    }
}
