using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Accelerators;

/// <summary>Preset weights made by the accelerator that holds them, from recipes (<see cref="GeneratedTensor"/>).</summary>
public abstract partial class Accelerator
{
    /// <summary>
    /// Whether <see cref="GenerateMatrix"/> and <see cref="GenerateTensor"/> make the values where
    /// they are held, never building a host copy; by default (the CPU, whose memory is the host's)
    /// they generate each tensor on the host and upload it.
    /// </summary>
    internal virtual bool GeneratesOnDevice => false;

    /// <summary>
    /// Preset tensor <paramref name="tensor"/> as a matmul weight held as <paramref name="elementType"/>,
    /// bitwise what <see cref="UploadMatrix(TensorView, MatrixLayout, TensorDType)"/> makes of the
    /// host generator's tensor. By default exactly that: the one tensor generated on the host,
    /// uploaded, and freed.
    /// </summary>
    /// <exception cref="FloverException">The tensor is not 2-D, or the device lacks the memory.</exception>
    internal virtual DeviceMatrix GenerateMatrix(GeneratedTensor tensor, MatrixLayout layout, TensorDType elementType)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return PresetWeightGenerator.WithHostCopy(tensor, view => UploadMatrix(view, layout, elementType));
    }

    /// <summary>
    /// Preset tensor <paramref name="tensor"/> as a flat F32 buffer, bitwise what
    /// <see cref="UploadTensor"/> makes of the host generator's tensor (its dtype widened exactly).
    /// By default exactly that: the one tensor generated on the host, uploaded, and freed.
    /// </summary>
    internal virtual MemoryBuffer<float> GenerateTensor(GeneratedTensor tensor)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return PresetWeightGenerator.WithHostCopy(tensor, UploadTensor);
    }
}
