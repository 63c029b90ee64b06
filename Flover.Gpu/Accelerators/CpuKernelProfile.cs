using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// Where a CPU accelerator's time goes, per kernel and per launch: enabled by the environment variable
/// <c>FLOVER_CPU_PROFILE=1</c> and printed to stderr when the accelerator is disposed. Off, it costs one
/// branch per kernel. A measurement aid for docs/PERFORMANCE.md, not a metric of the service.
/// </summary>
internal sealed class CpuKernelProfile
{
    /// <summary>Whether profiling was asked for (read once per process).</summary>
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("FLOVER_CPU_PROFILE") == "1";

    private readonly Dictionary<string, Entry> _entries = [];

    /// <summary>Adds one call of kernel <paramref name="name"/> that started at <paramref name="startTimestamp"/>.</summary>
    public void Add(string name, long startTimestamp, int chunks)
    {
        long ticks = Stopwatch.GetTimestamp() - startTimestamp;
        lock (_entries)
        {
            if (!_entries.TryGetValue(name, out Entry? entry))
            {
                entry = new Entry();
                _entries[name] = entry;
            }

            entry.Calls++;
            entry.Ticks += ticks;
            entry.Chunks += chunks;
        }
    }

    /// <summary>One line per kernel (calls, total and mean time, chunks), then the pool's synchronisation figures.</summary>
    public string Report(WorkerPoolStatistics pool)
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.AppendLine("cpu profile: kernel, calls, total ms, mean us, chunks/call");
        double total = 0;
        lock (_entries)
        {
            foreach ((string name, Entry entry) in _entries.OrderByDescending(pair => pair.Value.Ticks))
            {
                double ms = entry.Ticks * 1000.0 / Stopwatch.Frequency;
                total += ms;
                text.AppendLine(string.Create(c, $"  {name,-18} {entry.Calls,8} {ms,10:F1} {ms * 1000 / entry.Calls,9:F1} {(double)entry.Chunks / entry.Calls,8:F1}"));
            }
        }

        text.AppendLine(string.Create(c, $"  {"all kernels",-18} {"",8} {total,10:F1}"));
        text.AppendLine(string.Create(c, $"cpu profile: pool launches {pool.Launches}, inline runs {pool.InlineRuns}, caller waited {pool.WaitMilliseconds:F1} ms for others' chunks, chunks by worker [{string.Join(", ", pool.ChunksByWorker)}], helper sleeps {pool.Sleeps}"));
        return text.ToString();
    }

    private sealed class Entry
    {
        public long Calls;
        public long Ticks;
        public long Chunks;
    }
}

/// <summary>Synchronisation counters of a <see cref="WorkerPool"/> (kept only while profiling).</summary>
internal sealed record WorkerPoolStatistics(long Launches, long InlineRuns, double WaitMilliseconds, long[] ChunksByWorker, long Sleeps);
