using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Flover.Web.Tests;

/// <summary>A real <c>flover serve</c> on the tiny preset and a free loopback port, stopped on dispose.</summary>
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
        foreach (string argument in (string[])["serve", "--preset", "tiny", "--port", "0", "--set", "flover.engine.threads=1", "--set", "flover.engine.kv-slots=4"])
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
