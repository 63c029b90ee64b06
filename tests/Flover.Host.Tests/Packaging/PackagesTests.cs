using Flover.Gpu.Tests.Reference;
using Xunit.Abstractions;

namespace Flover.Host.Tests.Packaging;

/// <summary>
/// The libraries as a user gets them: packed to a temporary feed, the examples built against the
/// packages instead of the projects (in a copy of examples/ outside the repository), the program
/// run and its output checked, and the example's tests run.
/// </summary>
[Trait("Category", "Slow")]
public sealed class PackagesTests(ITestOutputHelper output)
{
    private static readonly string[] Libraries = ["Flover.Configuration", "Flover.Gpu", "Flover.Actors", "Flover.Testing"];
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task The_examples_build_and_pass_against_the_packed_libraries()
    {
        string repository = Repository();
        string dotnet = ChildProcess.Find("dotnet") ?? Environment.ProcessPath ?? "dotnet";
        DirectoryInfo work = Directory.CreateTempSubdirectory("flover-packages-");
        string version = $"0.1.0-ci.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        try
        {
            string feed = Path.Combine(work.FullName, "feed");
            foreach (string library in Libraries)
            {
                await Run(dotnet, ["pack", Path.Combine(repository, library), "-c", "Release", "-o", feed, $"-p:Version={version}", "--nologo"], repository);
            }

            Assert.Equal(Libraries.Length, Directory.GetFiles(feed, "*.nupkg").Length);

            // The examples, with the repository's shared build settings, but none of its projects next to them.
            string copy = Path.Combine(work.FullName, "user");
            Directory.CreateDirectory(copy);
            foreach (string file in new[] { "Directory.Build.props", "Directory.Packages.props" })
            {
                File.Copy(Path.Combine(repository, file), Path.Combine(copy, file), overwrite: false);
            }

            CopyTree(Path.Combine(repository, "examples"), Path.Combine(copy, "examples"));
            string[] package = [$"-p:FloverPackageVersion={version}"];
            string[] sources = ["--source", feed, "--source", "https://api.nuget.org/v3/index.json"];
            string program = Path.Combine(copy, "examples", "ActorIntegration");
            string tests = Path.Combine(copy, "examples", "ActorIntegration.Tests");
            await Run(dotnet, ["restore", tests, .. package, .. sources], copy);
            Assert.Contains($"\"Flover.Actors/{version}\"", await File.ReadAllTextAsync(Path.Combine(program, "obj", "project.assets.json")), StringComparison.Ordinal);

            string ran = await Run(dotnet, ["run", "--project", program, "--no-restore", .. package], copy);
            Assert.Contains("completed: Length, 16 tokens", ran, StringComparison.Ordinal);

            string tested = await Run(dotnet, ["test", tests, "--no-restore", .. package], copy);
            Assert.Contains("Passed!", tested, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
            // The test's throw-away versions leave the global package folder too.
            string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            foreach (string library in Libraries)
            {
                string cached = Path.Combine(cache, library.ToLowerInvariant(), version);
                if (Directory.Exists(cached))
                {
                    Directory.Delete(cached, recursive: true);
                }
            }
        }
    }

    private async Task<string> Run(string dotnet, string[] arguments, string directory)
    {
        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(dotnet, arguments, directory, Limit, new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" });
        output.WriteLine($"dotnet {string.Join(' ', arguments)} -> {exit}");
        Assert.True(exit == 0, $"dotnet {string.Join(' ', arguments)} failed ({exit}):\n{stdout}\n{stderr}");
        return stdout;
    }

    private static void CopyTree(string from, string to)
    {
        foreach (string directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, directory);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            {
                continue;
            }

            Directory.CreateDirectory(Path.Combine(to, relative));
        }

        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            if (!relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
                File.Copy(file, Path.Combine(to, relative));
            }
        }
    }

    private static string Repository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Flover.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository (Flover.sln) is not above the test's directory.");
    }
}
