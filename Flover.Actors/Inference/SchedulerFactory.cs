using Flover.Actors.Inference.Baselines;
using Flover.Configuration;
using Flover.Gpu.Models;

namespace Flover.Actors.Inference;

/// <summary>
/// Creates a model (instance) for a scheduler: <paramref name="slots"/> KV slots; it is instance
/// <paramref name="instance"/> of <paramref name="instances"/> sharing the kernel threads
/// (<paramref name="instances"/> = 0: one instance per request, as many as requests overlap).
/// The caller owns what it returns.
/// </summary>
/// <param name="slots">KV slots the scheduler needs.</param>
/// <param name="instance">Which instance (0-based).</param>
/// <param name="instances">How many share the threads; 0 when unbounded (per-request).</param>
public delegate IModel SchedulerModelFactory(int slots, int instance, int instances);

/// <summary>Builds the scheduler <c>flover.scheduler.kind</c> names, all on the same engine and weights.</summary>
public static class SchedulerFactory
{
    /// <summary>
    /// The scheduler <paramref name="settings"/> selects: <c>fused</c> (a <see cref="FusedDecodeLoop"/>
    /// over <c>flover.engine.kv-slots</c> slots), <c>dynamic</c> (<see cref="DynamicBatchScheduler"/>,
    /// max-batch-size slots), <c>instances</c> (<see cref="InstancesScheduler"/>, count instances of
    /// one slot) or <c>sequential</c> (<see cref="SequentialScheduler"/>, one slot). Dispose the
    /// result if it is <see cref="IDisposable"/>.
    /// </summary>
    /// <exception cref="Gpu.FloverException">The kind is unknown.</exception>
    public static IDecodeScheduler Create(SchedulerSettings settings, EngineSettings engine, DecodeLoopOptions loop, SchedulerModelFactory models, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(models);
        return settings.Kind switch
        {
            "fused" => new FusedDecodeLoop(models(engine.KvSlots, 0, 1), loop, clock),
            "dynamic" => new DynamicBatchScheduler(models(settings.DynamicMaxBatchSize, 0, 1), settings.DynamicMaxBatchSize, settings.DynamicMaxQueueDelay, loop, clock),
            "instances" when settings.InstancesCount is int count =>
                new InstancesScheduler([.. Enumerable.Range(0, count).Select(i => models(1, i, count))], loop, clock),
            "instances" => new InstancesScheduler(i => models(1, i, 0), loop, clock),
            "sequential" => new SequentialScheduler(models(1, 0, 1), loop, clock),
            _ => throw new Gpu.FloverException($"flover.scheduler.kind must be fused, dynamic, instances or sequential, not '{settings.Kind}'."),
        };
    }
}
