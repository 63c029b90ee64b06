using System.Runtime.CompilerServices;
using Flover.Actors.Inference;
using Flover.Gpu.Models;

namespace Flover.Actors.Tests.Inference;

/// <summary>
/// Drives a scheduler on a model synchronously, as the decode loop actor does with its shards but
/// on the test's thread: a shuffle-mode compaction is planned between iterations (what the shuffle
/// actor does), then the step is planned, run on the model and completed.
/// </summary>
internal static class SchedulerStepping
{
    private static readonly ConditionalWeakTable<IDecodeScheduler, ModelStepRunner> Runners = [];

    /// <summary>Registers <paramref name="model"/> as what <see cref="Step"/> runs <paramref name="scheduler"/>'s plans on.</summary>
    public static T On<T>(this T scheduler, IModel model)
        where T : IDecodeScheduler
    {
        Runners.AddOrUpdate(scheduler, new ModelStepRunner(model));
        return scheduler;
    }

    /// <summary>A fused loop over <paramref name="model"/>'s slots, stepping on it.</summary>
    public static FusedDecodeLoop Fused(IModel model, DecodeLoopOptions options, TimeProvider? clock = null) =>
        new FusedDecodeLoop(ModelShape.Of(model), options, clock).On(model);

    /// <summary>One iteration (both phases) on the registered model; a scheduler with no model slots completes without one.</summary>
    public static IterationReport Step(this IDecodeScheduler scheduler)
    {
        scheduler.CompactNow();
        if (scheduler.ModelSlots == 0)
        {
            Assert.True(scheduler.PlanStep().IsEmpty);
            return scheduler.CompleteStep(ModelStepResult.Empty);
        }

        Assert.True(Runners.TryGetValue(scheduler, out ModelStepRunner? runner), "the test registers the scheduler's model with On(model)");
        return scheduler.StepOn(runner!);
    }
}
