using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Flover.Web.Tests;

/// <summary>
/// A real <c>flover serve</c> on the tiny preset and a free loopback port, stopped on dispose. It
/// steps at most every 50 ms (<c>flover.engine.min-step-interval</c>): the tiny model decodes 240
/// tokens in well under a second on a fast machine, quicker than the page's four events a second
/// can be relied on to show; paced, a 240-token request is in the slot map for at least 12 s
/// however fast the machine.
/// </summary>
public sealed partial class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServeProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    /// <summary>The server's base URL (ends with a slash).</summary>
    public Uri Url { get; }

    /// <summary>Starts the server with <paramref name="settings"/> (<c>key=value</c>, as <c>--set</c>) and waits for its ready line.</summary>
    public static async Task<ServeProcess> StartAsync(params string[] settings)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "flover.dll"));
        foreach (string argument in (string[])["serve", "--preset", "tiny", "--port", "0", "--set", "flover.engine.threads=1", "--set", "flover.engine.kv-slots=4", "--set", "flover.engine.min-step-interval=50ms"])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (string setting in settings)
        {
            start.ArgumentList.Add("--set");
            start.ArgumentList.Add(setting);
        }

        Process process = Process.Start(start)!;
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        string? line = await process.StandardOutput.ReadLineAsync(limit.Token);
        Match ready = ReadyLine().Match(line ?? string.Empty);
        if (!ready.Success)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"serve did not get ready: '{line}'\n{await errors}");
        }

        return new ServeProcess(process, new Uri(ready.Groups["url"].Value + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"^flover serve: ready at (?<url>http://127\.0\.0\.1:[0-9]+) \(model tiny\)$")]
    private static partial Regex ReadyLine();
}
