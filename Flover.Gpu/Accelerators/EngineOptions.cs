using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// Engine settings read from the <c>flover.engine</c> configuration section (a plain record until
/// the HOCON reader binds it; the CLI's <c>--threads</c> overrides <see cref="Threads"/>).
/// </summary>
/// <param name="Threads"><c>flover.engine.threads</c>: kernel workers, the calling thread included; 0 means one per core.</param>
/// <param name="WeightDType"><c>flover.engine.weight-dtype</c>: the precision weight matrices are held in; null keeps the checkpoint's.</param>
/// <param name="TensorParallel"><c>flover.parallel.tensor</c>: shards the model is split over, sharing <see cref="Threads"/>.</param>
public sealed record EngineOptions(int Threads = 0, TensorDType? WeightDType = null, int TensorParallel = 1)
{
    /// <summary>The defaults: one kernel worker per core.</summary>
    public static EngineOptions Default { get; } = new();

    /// <summary>
    /// <c>flover.engine.device</c>: where the model runs (<see cref="DeviceSpec.Cpu"/> by default). An
    /// init property, not a positional one, so existing constructions keep their meaning.
    /// </summary>
    public DeviceSpec Device { get; init; } = DeviceSpec.Cpu;

    /// <summary>
    /// <c>flover.engine.batch-invariant</c>: true (the default) multiplies with the batch-invariant
    /// kernels, so a row's results are bitwise the same alone or in any batch; false asks for the
    /// fast GEMM mode, cuBLAS on the tensor cores, which only a CUDA device has
    /// (<see cref="DeviceAccelerators.Open"/> refuses it elsewhere) and which gives up that
    /// invariance and with it exact failover between workers.
    /// </summary>
    public bool BatchInvariant { get; init; } = true;

    /// <summary>The number of kernel workers these options ask for on this machine (at least 1).</summary>
    /// <exception cref="FloverException"><see cref="Threads"/> is negative.</exception>
    public int ResolveThreadCount()
    {
        if (Threads < 0)
        {
            throw new FloverException($"flover.engine.threads must be 0 (one per core) or a positive count, not {Threads}.");
        }

        return Threads == 0 ? Environment.ProcessorCount : Threads;
    }
}
