namespace Flover.Actors.Cluster;

/// <summary>
/// What a worker runs, as far as a request's tokens depend on it: two workers with equal
/// fingerprints produce exactly the same tokens for the same request (seeded or greedy), so a
/// request may fail over from one to the other and continue from its history with nothing
/// repeated or missing. Any difference (another checkpoint, precision, device kind, tensor-parallel
/// degree, or a GEMM mode that is not batch invariant) rules failover out.
/// </summary>
/// <param name="Model">The model's name as requests give it (a preset or a folder's id).</param>
/// <param name="WeightsHash">A hash of the configuration and the weights' bytes (or of a preset's name, seed and dtype).</param>
/// <param name="WeightDType">The precision the matrices are held in (f32, f16, bf16).</param>
/// <param name="KvDType">The KV cache's precision (f32, f16, bf16).</param>
/// <param name="Device">The accelerator kind (cpu, cuda).</param>
/// <param name="TensorParallel">Shards the model is split over.</param>
/// <param name="BatchInvariant">Whether every step's results are independent of the batch (the default GEMM mode); false rules out failover even between equal fingerprints.</param>
public sealed record WorkerFingerprint(string Model, string WeightsHash, string WeightDType, string KvDType, string Device, int TensorParallel, bool BatchInvariant = true)
{
    /// <summary>Whether a request started on a worker with this fingerprint may continue on one with <paramref name="other"/>, token for token.</summary>
    public bool CanContinueOn(WorkerFingerprint other)
    {
        ArgumentNullException.ThrowIfNull(other);
        // A batch-variant worker's tokens depend on what ran beside the request, on either side.
        return BatchInvariant && other.BatchInvariant && Equals(other);
    }
}
