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

    private long _sequences;
    private long _sequenceTicks;

    /// <summary>Adds a sequence that started at <paramref name="startTimestamp"/>, its phases' times taken from <paramref name="pool"/>.</summary>
    public void AddSequence(IReadOnlyList<string> names, long startTimestamp, WorkerPool pool)
    {
        _sequences++;
        _sequenceTicks += Stopwatch.GetTimestamp() - startTimestamp;
        ReadOnlySpan<long> ticks = pool.PhaseTicks(names.Count);
        for (int i = 0; i < names.Count; i++)
        {
            Add(names[i], ticks[i]);
        }
    }

    private void Add(string name, long ticks)
    {
        lock (_entries)
        {
            if (!_entries.TryGetValue(name, out Entry? entry))
            {
                entry = new Entry();
                _entries[name] = entry;
            }

            entry.Calls++;
            entry.Ticks += ticks;
        }
    }

    /// <summary>One line per kernel (calls, total and mean time, chunks), then the pool's synchronisation figures.</summary>
    public string Report(WorkerPoolStatistics pool)
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.AppendLine("cpu profile: kernel, calls, total ms (phase open to last chunk done), mean us");
        double total = 0;
        lock (_entries)
        {
            foreach ((string name, Entry entry) in _entries.OrderByDescending(pair => pair.Value.Ticks))
            {
                double ms = entry.Ticks * 1000.0 / Stopwatch.Frequency;
                total += ms;
                text.AppendLine(string.Create(c, $"  {name,-18} {entry.Calls,8} {ms,10:F1} {ms * 1000 / entry.Calls,9:F1}"));
            }
        }

        double sequences = _sequenceTicks * 1000.0 / Stopwatch.Frequency;
        text.AppendLine(string.Create(c, $"  {"all kernels",-18} {"",8} {total,10:F1}"));
        text.AppendLine(string.Create(c, $"cpu profile: {_sequences} sequences took {sequences:F1} ms ({sequences - total:F1} ms between phases); pool: {pool.Sequences} sequences of {pool.Phases} phases, {pool.InlineRuns} run inline (1 worker), caller waited {pool.WaitMilliseconds:F1} ms at phase ends and recomputed {pool.CallerSteals} chunks held by a stalled helper, chunks by worker [{string.Join(", ", pool.ChunksByWorker)}], parks {pool.Parks}"));
        return text.ToString();
    }

    private sealed class Entry
    {
        public long Calls;
        public long Ticks;
    }
}

/// <summary>Synchronisation counters of a <see cref="WorkerPool"/> (kept only while profiling).</summary>
internal sealed record WorkerPoolStatistics(long Sequences, long Phases, long InlineRuns, long CallerSteals, double WaitMilliseconds, long[] ChunksByWorker, long Parks);
