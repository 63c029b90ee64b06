using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flover.Gpu.Tests.Reference;

namespace Flover.Host.Tests.Http;

/// <summary>
/// <c>flover serve</c> as a separate process, as scripts run it: one ready line on stdout with
/// the URL (and nothing else there), a working API at that URL, and a clean stop on Ctrl+C.
/// </summary>
public sealed partial class ServeProcessTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Serve_prints_one_ready_line_answers_at_its_url_and_stops_on_ctrl_c()
    {
        using Process serve = StartTinyServe();
        Task<string> stderr = serve.StandardError.ReadToEndAsync();
        try
        {
            using var limit = new CancellationTokenSource(s_limit);
            using HttpClient client = await ReadyClientAsync(serve, stderr, limit.Token);
            using HttpResponseMessage models = await client.GetAsync("v1/models", limit.Token);
            Assert.Equal(HttpStatusCode.OK, models.StatusCode);
            Assert.Equal("tiny", JsonDocument.Parse(await models.Content.ReadAsStringAsync(limit.Token)).RootElement.GetProperty("data")[0].GetProperty("id").GetString());

            if (OperatingSystem.IsWindows())
            {
                return; // No Ctrl+C to send to another process; the finally block stops it.
            }

            await SignalAsync(serve, "-INT", limit.Token);

            await serve.WaitForExitAsync(limit.Token);
            Assert.Equal(0, serve.ExitCode);
            Assert.Equal(string.Empty, await serve.StandardOutput.ReadToEndAsync(limit.Token));
            Assert.Contains("serve: warming up", await stderr, StringComparison.Ordinal);
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Serve_drains_on_sigterm_and_exits_0()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // No SIGTERM on Windows.
        }

        using Process serve = StartTinyServe();
        Task<string> stderr = serve.StandardError.ReadToEndAsync();
        try
        {
            using var limit = new CancellationTokenSource(s_limit);
            using HttpClient client = await ReadyClientAsync(serve, stderr, limit.Token);
            using HttpResponseMessage health = await client.GetAsync("health", limit.Token);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);

            await SignalAsync(serve, "-TERM", limit.Token);

            await serve.WaitForExitAsync(limit.Token);
            Assert.Equal(0, serve.ExitCode);
            Assert.Contains("serve: stopped; 0 request(s) were in flight", await stderr, StringComparison.Ordinal);
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Starts <c>flover serve</c> on the tiny preset, a free port, one thread and two KV slots.</summary>
    private static Process StartTinyServe() => StartServe("--preset", "tiny", "--set", "flover.engine.threads=1", "--set", "flover.engine.kv-slots=2");

    /// <summary>Starts <c>flover serve</c> on a free port with <paramref name="arguments"/>.</summary>
    private static Process StartServe(params string[] arguments)
    {
        string dotnet = ChildProcess.Find("dotnet") ?? Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "flover.dll"));
        string[] all = ["serve", "--port", "0", .. arguments];
        all.ToList().ForEach(start.ArgumentList.Add);
        return Process.Start(start)!;
    }

    /// <summary>Reads the ready line (it must be the first line of stdout) and returns a client for its URL.</summary>
    private static async Task<HttpClient> ReadyClientAsync(Process serve, Task<string> stderr, CancellationToken cancellation, string model = "tiny")
    {
        string? ready = await serve.StandardOutput.ReadLineAsync(cancellation);
        Match match = ReadyLine().Match(ready ?? string.Empty);
        Assert.True(match.Success && match.Groups["model"].Value == model, $"unexpected first stdout line '{ready}'; stderr:\n{(serve.HasExited ? await stderr : string.Empty)}");
        return new HttpClient { BaseAddress = new Uri(match.Groups["url"].Value + "/") };
    }

    private static async Task SignalAsync(Process serve, string signal, CancellationToken cancellation)
    {
        using Process kill = Process.Start("kill", [signal, serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(cancellation);
    }

    [GeneratedRegex(@"^flover serve: ready at (?<url>http://127\.0\.0\.1:[1-9][0-9]*) \(model (?<model>[a-z0-9-]+)\)$")]
    private static partial Regex ReadyLine();
}
