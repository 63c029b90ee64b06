using System.Collections.Concurrent;
using System.Diagnostics;

namespace Flover.Host.Tests.Cluster;

/// <summary>A process whose output lines are collected as they come, with waits for a line.</summary>
internal sealed class FloverNode
{
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly List<(Func<string, bool> Match, bool Stdout, TaskCompletionSource<string> Found)> _waits = [];

    public FloverNode(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => Received(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => Received(e.Data, stdout: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Stderr => string.Join('\n', _stderr);

    public string Stdout => string.Join('\n', _stdout);

    public int Count(string needle) => _stderr.Count(l => l.Contains(needle, StringComparison.Ordinal));

    public Task<string> StdoutLine(string start, CancellationToken cancellation) => Wait(l => l.StartsWith(start, StringComparison.Ordinal), stdout: true, cancellation);

    public Task<string> StderrLine(string needle, CancellationToken cancellation) => Wait(l => l.Contains(needle, StringComparison.Ordinal), stdout: false, cancellation);

    private async Task<string> Wait(Func<string, bool> match, bool stdout, CancellationToken cancellation)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waits)
        {
            if ((stdout ? _stdout : _stderr).FirstOrDefault(match) is { } seen)
            {
                return seen;
            }

            _waits.Add((match, stdout, found));
        }

        try
        {
            return await found.Task.WaitAsync(cancellation);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no such line within the limit; the process {(Process.HasExited ? $"exited with {Process.ExitCode}" : "runs")}; stderr:\n{Stderr}");
        }
    }

    private void Received(string? line, bool stdout)
    {
        if (line is null)
        {
            return;
        }

        lock (_waits)
        {
            (stdout ? _stdout : _stderr).Enqueue(line);
            foreach (var wait in _waits.Where(w => w.Stdout == stdout && w.Match(line)))
            {
                wait.Found.TrySetResult(line);
            }
        }
    }
}
