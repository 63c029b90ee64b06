namespace Flover.Gpu.Accelerators;

/// <summary>One parallel kernel launch: independent chunks that any worker may run, in any order.</summary>
internal interface IWorkerJob
{
    /// <summary>Number of chunks of this launch (read once when the launch starts).</summary>
    int ChunkCount { get; }

    /// <summary>Runs chunk <paramref name="chunk"/> on worker <paramref name="worker"/> (for per-worker scratch).</summary>
    void Execute(int chunk, int worker);
}

/// <summary>
/// A launch whose chunks can be run twice: <see cref="Compute"/> writes only the worker's own staging
/// memory and <see cref="Commit"/> publishes it, and the pool lets exactly one computation of each chunk
/// commit. So a worker that finds a phase held up by a chunk another worker claimed (and the OS then
/// descheduled) can compute that chunk itself instead of waiting; whichever finishes first commits,
/// the other's result is dropped. Both computed bitwise the same values, so it does not matter which.
/// </summary>
internal interface IRestartableJob : IWorkerJob
{
    /// <summary>Whether this launch uses <see cref="Compute"/>/<see cref="Commit"/> (else <see cref="IWorkerJob.Execute"/>).</summary>
    bool Restartable { get; }

    /// <summary>Computes chunk <paramref name="chunk"/> into worker <paramref name="worker"/>'s staging memory; writes nothing shared.</summary>
    void Compute(int chunk, int worker);

    /// <summary>Writes worker <paramref name="worker"/>'s staged chunk <paramref name="chunk"/> to the outputs (at most once per chunk).</summary>
    void Commit(int chunk, int worker);
}

/// <summary>
/// A launch that only worker 0 (the calling thread) runs: small non-restartable work (the row
/// kernels of a step) that a helper could otherwise claim and then hold while descheduled, making
/// the caller wait for it with nothing to recompute. Helpers wait through such phases.
/// </summary>
internal interface ICallerOnlyJob : IWorkerJob
{
}
