using System.Diagnostics;
using Flover.Actors.Inference;
using Flover.Gpu.Memory;
using Flover.Gpu.Models;
using Flover.Gpu.Sampling;

namespace Flover.Host.Bench;

/// <summary>
/// A scheduler as the decode loop actor drives it, observed: every call goes to the scheduler
/// unchanged, and each completed iteration adds to the run's counters (iterations that computed
/// something, live rows, peak slots, plan-to-completion time, the models' time, shuffles). Written
/// on the loop's thread only; the bench reads the counters once every request has completed (the
/// actor messages that report the completions order those writes before the read).
/// </summary>
internal sealed class RecordingScheduler(IDecodeScheduler inner, IReadOnlyList<TimedModel> models) : IDecodeScheduler, IDisposable
{
    private long _plannedAt;

    public int Iterations { get; private set; }

    public long LiveRows { get; private set; }

    public int PeakSlots { get; private set; }

    public long IterationTicks { get; private set; }

    public long ModelTicks { get; private set; }

    public long CopyTicks { get; private set; }

    public int Shuffles { get; private set; }

    public int ShuffleMoves { get; private set; }

    public string Kind => inner.Kind;

    public int WaitingCount => inner.WaitingCount;

    public int RunningCount => inner.RunningCount;

    public int SlotsUsed => inner.SlotsUsed;

    public int SlotsFree => inner.SlotsFree;

    public int SlotCount => inner.SlotCount;

    public bool HasWork => inner.HasWork;

    public DateTimeOffset? NextStepAt => inner.NextStepAt;

    public int ModelSlots => inner.ModelSlots;

    public CompactionRequest? CompactionWanted => inner.CompactionWanted;

    public void DescribeSlots(Span<KvSlot> slots) => inner.DescribeSlots(slots);

    public string? Submit(long requestId, ReadOnlyMemory<int> prompt, SamplingParameters parameters, DateTimeOffset? deadline = null, ReadOnlyMemory<int> continueFrom = default) =>
        inner.Submit(requestId, prompt, parameters, deadline, continueFrom);

    public void Cancel(long requestId) => inner.Cancel(requestId);

    public void StopSequenceFound(long requestId) => inner.StopSequenceFound(requestId);

    public bool OfferCompaction(CompactionPlan plan, long version) => inner.OfferCompaction(plan, version);

    public ModelStep PlanStep()
    {
        _plannedAt = Stopwatch.GetTimestamp();
        PeakSlots = Math.Max(PeakSlots, inner.SlotsUsed);
        return inner.PlanStep();
    }

    public IterationReport CompleteStep(ModelStepResult result) => Record(inner.CompleteStep(result));

    public IterationReport FailStep(string reason) => Record(inner.FailStep(reason));

    public void Dispose() => (inner as IDisposable)?.Dispose();

    private IterationReport Record(IterationReport report)
    {
        PeakSlots = Math.Max(PeakSlots, inner.SlotsUsed);
        if (report.DecodeRows + report.PrefillTokens == 0)
        {
            return report;
        }

        Iterations++;
        LiveRows += report.LiveRows;
        IterationTicks += Stopwatch.GetTimestamp() - _plannedAt;
        // The models are made on the shards' and instances' threads as they start: read under their lock.
        lock (models)
        {
            // Instances run side by side: the iteration waited on the busiest one.
            ModelTicks += models.Count == 0 ? 0 : models.Max(m => m.TakeTicks());
            CopyTicks += models.Sum(m => m.TakeCopyTicks());
        }
        if (report.Compaction is { IsEmpty: false } plan)
        {
            Shuffles++;
            ShuffleMoves += plan.Moves.Count;
        }

        return report;
    }
}
