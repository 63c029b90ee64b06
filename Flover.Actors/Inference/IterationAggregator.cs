using Flover.Gpu.Memory;

namespace Flover.Actors.Inference;

/// <summary>
/// Gathers the decode loop's iterations between two <see cref="IterationSummary"/> publications.
/// A plain class owned by the loop: recording an iteration costs a few counters and one list
/// append (bounded), so it stays cheap whether anyone subscribes or not; the slot map, the only
/// part that grows with the pool, is built at publication, at most once per interval.
/// </summary>
internal sealed class IterationAggregator
{
    private readonly TimeSpan _interval;
    private readonly List<int> _rows = [];
    private readonly List<SlotMove> _moves = [];
    private DateTimeOffset _start;
    private int _iterations;
    private long _rowSum;
    private int _maxRows;
    private long _tokens;
    private bool _pending;

    /// <param name="interval">Shortest time between publications; zero or less turns summaries off.</param>
    /// <param name="now">Start of the first interval.</param>
    public IterationAggregator(TimeSpan interval, DateTimeOffset now)
    {
        _interval = interval;
        _start = now;
    }

    /// <summary>False when summaries are off (<c>flover.engine.iteration-events-interval = 0s</c>).</summary>
    public bool Enabled => _interval > TimeSpan.Zero;

    /// <summary>Adds one iteration.</summary>
    public void Record(IterationReport report)
    {
        if (!Enabled)
        {
            return;
        }

        _iterations++;
        _rowSum += report.DecodeRows;
        _maxRows = Math.Max(_maxRows, report.DecodeRows);
        _tokens += report.Tokens.Count;
        if (_rows.Count < IterationSummary.MaxRowsPerStep)
        {
            _rows.Add(report.DecodeRows);
        }

        if (report.Compaction is { } compaction)
        {
            AddMoves(compaction);
        }

        _pending = true;
    }

    /// <summary>Adds a KV shuffle applied between iterations (planned by the shuffle actor).</summary>
    public void AddMoves(CompactionPlan plan)
    {
        if (Enabled)
        {
            _moves.AddRange(plan.Moves);
            _pending = true;
        }
    }

    /// <summary>True when something was recorded and the interval has passed (or <paramref name="force"/>, when the loop goes idle).</summary>
    public bool Due(DateTimeOffset now, bool force) => Enabled && _pending && (force || now - _start >= _interval);

    /// <summary>The summary of the interval ending <paramref name="now"/>, with <paramref name="scheduler"/>'s slots as they are; starts the next interval.</summary>
    public IterationSummary Publish(DateTimeOffset now, IDecodeScheduler scheduler)
    {
        var slots = new KvSlot[scheduler.SlotCount];
        scheduler.DescribeSlots(slots);
        double seconds = (now - _start).TotalSeconds;
        var summary = new IterationSummary(
            _start,
            now,
            scheduler.Kind,
            _iterations,
            [.. _rows],
            _maxRows,
            _iterations == 0 ? 0 : (double)_rowSum / _iterations,
            _tokens,
            seconds > 0 ? _tokens / seconds : 0,
            slots,
            [.. _moves],
            scheduler.WaitingCount,
            scheduler.RunningCount);
        _start = now;
        _iterations = 0;
        _rowSum = 0;
        _maxRows = 0;
        _tokens = 0;
        _rows.Clear();
        _moves.Clear();
        _pending = false;
        return summary;
    }
}
