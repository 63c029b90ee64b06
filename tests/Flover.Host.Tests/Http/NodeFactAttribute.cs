namespace Flover.Host.Tests.Http;

/// <summary>A fact that runs only where <c>node</c> and <c>npm</c> are on PATH (our machines and CI have them).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (NodeTools.Find("node") is null || NodeTools.Find("npm") is null)
        {
            Skip = "node and npm are not on PATH";
        }
    }
}

/// <summary>Finds executables on PATH.</summary>
internal static class NodeTools
{
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => new[] { Path.Combine(dir, name), Path.Combine(dir, name + ".cmd"), Path.Combine(dir, name + ".exe") })
            .FirstOrDefault(File.Exists);
}
