using Flover.Actors.Inference.Baselines;
using Flover.Configuration;
using Flover.Gpu.Models;

namespace Flover.Actors.Inference;

/// <summary>
/// Creates a model instance for the concurrent-instances baseline, which runs models of its own:
/// instance <paramref name="instance"/> of <paramref name="instances"/> sharing the kernel threads
/// (<paramref name="instances"/> = 0: one instance per request, as many as requests overlap),
/// with one KV slot. The caller owns what it returns.
/// </summary>
/// <param name="instance">Which instance (0-based).</param>
/// <param name="instances">How many share the threads; 0 when unbounded (per-request).</param>
public delegate IModel InstanceModelFactory(int instance, int instances);

/// <summary>Builds the scheduler <c>flover.scheduler.kind</c> names, all for the same model.</summary>
public static class SchedulerFactory
{
    /// <summary>
    /// The scheduler <paramref name="settings"/> selects: <c>fused</c> (a <see cref="FusedDecodeLoop"/>
    /// over <c>flover.engine.kv-slots</c> slots), <c>dynamic</c> (<see cref="DynamicBatchScheduler"/>,
    /// max-batch-size slots), <c>sequential</c> (<see cref="SequentialScheduler"/>, one slot), all
    /// planning for the decode loop's model of <paramref name="model"/>'s shape, or <c>instances</c>
    /// (<see cref="InstancesScheduler"/>, count instances of one slot each, made by
    /// <paramref name="instances"/>). Dispose the result if it is <see cref="IDisposable"/>.
    /// </summary>
    /// <exception cref="Gpu.FloverException">The kind is unknown, or instances are asked for without an instance factory.</exception>
    public static IDecodeScheduler Create(SchedulerSettings settings, EngineSettings engine, DecodeLoopOptions loop, ModelShape model, InstanceModelFactory? instances = null, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(model);
        return settings.Kind switch
        {
            "fused" => new FusedDecodeLoop(model.WithSlots(engine.KvSlots), loop, clock),
            "dynamic" => new DynamicBatchScheduler(model.WithSlots(settings.DynamicMaxBatchSize), settings.DynamicMaxBatchSize, settings.DynamicMaxQueueDelay, loop, clock),
            "sequential" => new SequentialScheduler(model.WithSlots(1), loop, clock),
            "instances" when instances is null => throw new Gpu.FloverException("The instances scheduler runs model instances of its own, and none can be made here (flover serve runs one model: use fused, dynamic or sequential)."),
            "instances" when settings.InstancesCount is int count =>
                new InstancesScheduler([.. Enumerable.Range(0, count).Select(i => instances(i, count))], loop, clock),
            "instances" => new InstancesScheduler(i => instances(i, 0), loop, clock),
            _ => throw new Gpu.FloverException($"flover.scheduler.kind must be fused, dynamic, instances or sequential, not '{settings.Kind}'."),
        };
    }
}
