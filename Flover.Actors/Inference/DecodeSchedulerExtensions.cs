using Flover.Gpu.Memory;
using Flover.Gpu.Models;

namespace Flover.Actors.Inference;

/// <summary>Drives a scheduler on a model in the calling thread, both phases at once (tests, benchmarks of one scheduler).</summary>
public static class DecodeSchedulerExtensions
{
    /// <summary>
    /// One iteration of <paramref name="scheduler"/> with <paramref name="runner"/>'s model run
    /// synchronously; a model exception fails the step as a failed shard would.
    /// </summary>
    public static IterationReport StepOn(this IDecodeScheduler scheduler, ModelStepRunner runner)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(runner);
        ModelStep step = scheduler.PlanStep();
        if (step.IsEmpty)
        {
            return scheduler.CompleteStep(ModelStepResult.Empty);
        }

        ModelStepResult result;
        try
        {
            result = runner.Run(step);
        }
        catch (Exception exception)
        {
            return scheduler.FailStep(exception.Message);
        }

        return scheduler.CompleteStep(result);
    }

    /// <summary>Plans and accepts the compaction <paramref name="scheduler"/> wants, if any, with <see cref="CompactionPlanner"/> (what the shuffle actor does), returning the plan.</summary>
    public static CompactionPlan? CompactNow(this IDecodeScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        if (scheduler.CompactionWanted is not { } wanted)
        {
            return null;
        }

        CompactionPlan plan = CompactionPlanner.Plan(wanted.Live);
        return scheduler.OfferCompaction(plan, wanted.Version) ? plan : null;
    }
}
