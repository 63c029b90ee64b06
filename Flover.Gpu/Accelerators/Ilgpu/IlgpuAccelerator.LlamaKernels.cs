using Flover.Gpu.Memory;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// The LLaMA kernels are not yet written for ILGPU: each refuses with one line, so a LLaMA model
/// asked to run on a device says so instead of failing inside a launch.
/// </summary>
public sealed partial class IlgpuAccelerator
{
    /// <summary>What every LLaMA kernel on this accelerator says.</summary>
    internal const string LlamaNotSupported = "LLaMA models run on the CPU accelerator in this version (the ILGPU accelerator has no RMSNorm, rotary, SwiGLU or grouped-query attention kernels yet).";

    /// <inheritdoc />
    protected override void RmsNormCore(ArrayView<float> input, ArrayView<float> output, int rows, int width, ArrayView<float> gain, float epsilon) =>
        throw new FloverException(LlamaNotSupported);

    /// <inheritdoc />
    protected override void ApplyRotaryCore(ArrayView<float> qkv, int rows, ArrayView<int> positions, int queryHeads, int kvHeads, int headSize, ArrayView<float> table) =>
        throw new FloverException(LlamaNotSupported);

    /// <inheritdoc />
    protected override void SwiGluCore(ArrayView<float> gateUp, int rows, int width, ArrayView<float> output) =>
        throw new FloverException(LlamaNotSupported);

    /// <inheritdoc />
    protected override void WriteGroupedKvCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer) =>
        throw new FloverException(LlamaNotSupported);

    /// <inheritdoc />
    protected override void GroupedAttentionCore(ArrayView<float> qkv, int rows, int queryHeads, ArrayView<int> slots, ArrayView<int> positions, ArrayView<float> cache, KvCacheLayout layout, int layer, ArrayView<float> output) =>
        throw new FloverException(LlamaNotSupported);
}
