using Flover.Gpu.Tests.Reference;
using Xunit.Abstractions;

namespace Flover.Host.Tests.Http;

/// <summary>
/// A real third-party client: the official <c>openai</c> npm package (pinned by the committed
/// package-lock.json, installed with <c>npm ci</c>) runs node/client-test.mjs against Kestrel.
/// </summary>
[Collection(TinyServerCollection.Name)]
public sealed class OpenAiNodeClientTests(TinyServerFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan s_installTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan s_runTimeout = TimeSpan.FromMinutes(2);

    [NodeFact]
    public async Task The_openai_npm_client_runs_completions_chat_streaming_and_errors()
    {
        string work = Directory.CreateTempSubdirectory("flover-openai-").FullName;
        try
        {
            string source = Path.Combine(SourceRoot(), "tests", "Flover.Host.Tests", "Http", "node");
            foreach (string file in new[] { "package.json", "package-lock.json", "client-test.mjs" })
            {
                File.Copy(Path.Combine(source, file), Path.Combine(work, file));
            }

            (int installExit, string installLog) = await RunAsync(ChildProcess.Find("npm")!, ["ci", "--no-audit", "--no-fund"], work, s_installTimeout, []);
            Assert.True(installExit == 0, $"npm ci failed ({installExit}):\n{installLog}");

            await using KestrelServer server = await KestrelServer.StartAsync(fixture);
            (int exit, string log) = await RunAsync(ChildProcess.Find("node")!, ["client-test.mjs"], work, s_runTimeout, new()
            {
                ["FLOVER_BASE_URL"] = new Uri(server.Address, "v1").ToString(),
                ["FLOVER_MODEL"] = fixture.Engine.Model.Id,
            });
            output.WriteLine(log);

            Assert.True(exit == 0, $"client-test.mjs failed ({exit}):\n{log}");
            Assert.Contains("7 passed, 0 failed", log, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<(int Exit, string Log)> RunAsync(string program, string[] arguments, string directory, TimeSpan timeout, Dictionary<string, string> environment)
    {
        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(program, arguments, directory, timeout, environment);
        return (exit, stdout + stderr);
    }

    private static string SourceRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Flover.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Flover.sln above {AppContext.BaseDirectory}.");
    }
}
