using System.Diagnostics;

namespace Flover.Gpu.Tests.Reference;

/// <summary>
/// Finds and runs the external programs some tests compare against (node, npm, dotnet), with a
/// time limit. Shared by the Gpu tests (Hugging Face's JavaScript) and the Host tests (the openai
/// client, serve as a process), which link this file.
/// </summary>
internal static class ChildProcess
{
    /// <summary>The executable <paramref name="name"/> on PATH (with .cmd/.exe on Windows), or null.</summary>
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => new[] { Path.Combine(dir, name), Path.Combine(dir, name + ".cmd"), Path.Combine(dir, name + ".exe") })
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// Runs <paramref name="program"/> in <paramref name="directory"/> and returns its exit code and
    /// output; past <paramref name="timeout"/> it kills the process tree and returns exit code −1
    /// with the timeout said first in <c>Stderr</c>.
    /// </summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string program, IEnumerable<string> arguments, string directory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, await stdout, $"{Path.GetFileName(program)} timed out after {timeout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
