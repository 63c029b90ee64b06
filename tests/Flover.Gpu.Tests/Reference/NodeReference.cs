using System.Text.Json;

namespace Flover.Gpu.Tests.Reference;

/// <summary>
/// Runs TestData/huggingface/reference.mjs: the npm packages <c>@huggingface/tokenizers</c> and
/// <c>@huggingface/jinja</c>, pinned by the committed package-lock.json and installed once per test
/// run with <c>npm ci</c> into a temporary folder.
/// </summary>
internal static class NodeReference
{
    private static readonly TimeSpan s_installTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan s_runTimeout = TimeSpan.FromMinutes(1);
    private static readonly Lazy<Task<string>> s_install = new(InstallAsync);

    /// <summary>The folder with the committed script, lock file and golden data (copied beside the tests).</summary>
    public static string DataFolder { get; } = Path.Combine(AppContext.BaseDirectory, "TestData", "huggingface");

    public static bool Available => ChildProcess.Find("node") is not null && ChildProcess.Find("npm") is not null;

    public static bool RequiredByCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs <c>node reference.mjs arguments</c> and parses what it prints.</summary>
    public static async Task<JsonElement> RunAsync(params string[] arguments)
    {
        Assert.True(Available, "node and npm must be on PATH when CI=true");
        string work = await s_install.Value;
        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(ChildProcess.Find("node")!, ["reference.mjs", .. arguments], work, s_runTimeout);
        Assert.True(exit == 0, $"node reference.mjs {string.Join(' ', arguments)} failed ({exit}):\n{stderr}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    private static async Task<string> InstallAsync()
    {
        string work = Directory.CreateTempSubdirectory("flover-hf-reference-").FullName;
        foreach (string file in new[] { "package.json", "package-lock.json", "reference.mjs" })
        {
            File.Copy(Path.Combine(DataFolder, file), Path.Combine(work, file));
        }

        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(ChildProcess.Find("npm")!, ["ci", "--no-audit", "--no-fund"], work, s_installTimeout);
        Assert.True(exit == 0, $"npm ci failed ({exit}):\n{stdout}{stderr}");
        return work;
    }
}
