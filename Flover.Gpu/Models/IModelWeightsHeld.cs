using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models;

/// <summary>What a loaded model holds of its weights, for reports (bench-decode's weight GB/s, a shard's readiness): either family's model says it.</summary>
public interface IModelWeightsHeld
{
    /// <summary>Bytes of weights the model holds on its accelerator (a shard: its part).</summary>
    long WeightBytes { get; }

    /// <summary>The precision its weight matrices are held in.</summary>
    TensorDType WeightDType { get; }
}
