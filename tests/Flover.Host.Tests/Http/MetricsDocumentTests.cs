using System.Text;

namespace Flover.Host.Tests.Http;

/// <summary>A real server's /metrics (Kestrel on a loopback port) against the table of docs/OPERATIONS.md's "Metrics" section.</summary>
public sealed class MetricsDocumentTests
{
    [Fact]
    public async Task The_exported_flover_metrics_and_their_types_are_the_documented_table_and_the_adapted_meters_are_there()
    {
        await using KestrelServer server = await KestrelServer.StartAsync();
        using var client = new HttpClient { BaseAddress = server.Address };
        using HttpResponseMessage completion = await client.PostAsync("v1/completions", new StringContent("""{"prompt":"a","max_tokens":2}""", Encoding.UTF8, "application/json"));
        string metrics = await client.GetStringAsync("metrics");

        Dictionary<string, string> exported = Types(metrics);
        (Dictionary<string, string> documented, Dictionary<string, string[]> labels) = DocumentedTable();
        Dictionary<string, string> flover = exported.Where(e => e.Key.StartsWith("flover_", StringComparison.Ordinal)).ToDictionary();
        Assert.Equal(14, documented.Count);
        Assert.Empty(documented.Where(d => !flover.TryGetValue(d.Key, out string? type) || type != d.Value).Select(d => $"{d.Key} {d.Value}: exported as {flover.GetValueOrDefault(d.Key) ?? "nothing"}"));
        Assert.Empty(flover.Where(e => !documented.ContainsKey(e.Key)).Select(e => $"{e.Key} {e.Value} is not documented"));
        Assert.Empty(labels.Where(d => !d.Value.SequenceEqual(LabelNames(metrics, d.Key))).Select(d => $"{d.Key}: documented labels [{string.Join(", ", d.Value)}], exported [{string.Join(", ", LabelNames(metrics, d.Key))}]"));

        // Kestrel's and the runtime's meters come through prometheus-net's MeterAdapter, named
        // <meter>_<instrument>, counters as gauges; Flover's own meter does not (it would read flover_flover_*).
        Assert.Equal("gauge", exported.GetValueOrDefault("microsoft_aspnetcore_server_kestrel_kestrel_active_connections"));
        Assert.Equal("histogram", exported.GetValueOrDefault("microsoft_aspnetcore_hosting_http_server_request_duration"));
        Assert.Equal("gauge", exported.GetValueOrDefault("system_runtime_dotnet_gc_collections"));
        Assert.DoesNotContain(exported.Keys, name => name.Contains("flover_flover", StringComparison.Ordinal));
        Assert.DoesNotContain(exported.Keys, name => name.StartsWith("process_", StringComparison.Ordinal) || name.StartsWith("dotnet_", StringComparison.Ordinal));
    }

    /// <summary>Every <c># TYPE name type</c> line, each name once.</summary>
    internal static Dictionary<string, string> Types(string metrics)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in metrics.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)))
        {
            string[] parts = line.Split(' ');
            Assert.True(types.TryAdd(parts[2], parts[3]), $"{parts[2]} has two # TYPE lines");
        }

        return types;
    }

    /// <summary>The label names (sorted, without a histogram's <c>le</c>) of <paramref name="family"/>'s samples.</summary>
    private static string[] LabelNames(string metrics, string family) =>
        [.. metrics.Split('\n')
            .Where(l => l.StartsWith(family + "{", StringComparison.Ordinal) || l.StartsWith(family + "_bucket{", StringComparison.Ordinal))
            .SelectMany(l => l[(l.IndexOf('{') + 1)..l.IndexOf('}')].Split(',').Select(pair => pair[..pair.IndexOf('=')]))
            .Where(name => name != "le").Distinct().Order(StringComparer.Ordinal)];

    /// <summary>The metric, type and label columns (label names sorted) of the first table under <paramref name="heading"/> (a cluster frontend's own metrics are under "### Cluster metrics").</summary>
    internal static (Dictionary<string, string> Types, Dictionary<string, string[]> Labels) DocumentedTable(string heading = "## Metrics")
    {
        string[] lines = File.ReadAllLines(Path.Combine(MetricsTests.RepositoryRoot(), "docs", "OPERATIONS.md"));
        IEnumerable<string> table = lines.SkipWhile(l => l != heading).Skip(1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal))
            .SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var labels = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (string row in table)
        {
            string[] cells = row.Split('|', StringSplitOptions.TrimEntries);
            string name = cells[1].Trim('`');
            Assert.True(types.TryAdd(name, cells[2]), $"{name} is documented twice");
            labels[name] = [.. cells[3].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim('`')).Order(StringComparer.Ordinal)];
        }

        return (types, labels);
    }
}
