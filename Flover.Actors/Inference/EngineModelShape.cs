using Flover.Gpu.Checkpoints;

namespace Flover.Actors.Inference;

/// <summary>The family-independent part of a model's options, read from <c>flover.engine</c> by <see cref="EngineSetup.ModelShape"/>.</summary>
/// <param name="SlotCount">KV slots (<c>kv-slots</c>).</param>
/// <param name="SlotCapacity">Positions per slot (<c>max-positions</c>, or the model's limit).</param>
/// <param name="WeightDType">The weight precision asked for; null keeps the checkpoint's.</param>
/// <param name="KvDType">The KV-cache precision.</param>
internal readonly record struct EngineModelShape(int SlotCount, int SlotCapacity, TensorDType? WeightDType, TensorDType KvDType);
