using Flover.Gpu.Checkpoints;
using Flover.Gpu.Kernels.Ilgpu;
using Flover.Gpu.Models;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>Preset weights generated in device memory (<see cref="PresetKernels"/>): no host copy, no upload.</summary>
public sealed partial class IlgpuAccelerator
{
    // Pairs per launch: an Index1D is an int, and a 2³⁰-pair launch is already 16 Gi elements.
    private const long MaxPairsPerLaunch = 1L << 30;

    /// <inheritdoc />
    internal override bool GeneratesOnDevice => true;

    /// <inheritdoc />
    internal override DeviceMatrix GenerateMatrix(GeneratedTensor tensor, MatrixLayout layout, TensorDType elementType)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Shape.Length != 2)
        {
            throw new FloverException($"Tensor '{tensor.Name}' must be a matrix but has shape [{string.Join(", ", tensor.Shape)}].");
        }

        long rows = tensor.Shape[0];
        long columns = tensor.Shape[1];
        (int k, int n) = IlgpuMatrix.CheckShape(tensor.Name, rows, columns, layout, elementType);
        long count = (long)k * n;
        MemoryBuffer<float>? single = null;
        MemoryBuffer<ushort>? bits = null;
        try
        {
            if (elementType == TensorDType.F32)
            {
                single = Allocate<float>(count);
            }
            else
            {
                bits = Allocate<ushort>(count);
            }

            Fill(tensor, WeightsOf(elementType, single, bits), transpose: layout == MatrixLayout.OutputMajor);
            return IlgpuMatrix.Wrap(this, tensor.Name, k, n, elementType, single, bits);
        }
        catch
        {
            single?.Dispose();
            bits?.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    internal override MemoryBuffer<float> GenerateTensor(GeneratedTensor tensor)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentNullException.ThrowIfNull(tensor);
        MemoryBuffer<float> buffer = Allocate<float>(tensor.ElementCount);
        try
        {
            Fill(tensor, WeightsOf(TensorDType.F32, buffer, null), transpose: false);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Launches the fill of <paramref name="tensor"/> into <paramref name="output"/>, transposed from output-major when asked.</summary>
    private void Fill(GeneratedTensor tensor, WeightView output, bool transpose)
    {
        long count = tensor.ElementCount;
        var args = new PresetFillArgs
        {
            Output = output,
            Count = count,
            K0 = tensor.Key.K0,
            K1 = tensor.Key.K1,
            K2 = tensor.Key.K2,
            K3 = tensor.Key.K3,
            RadiusScale = SeededNormalMath.RadiusScale(tensor.Std),
            Fill = tensor.Fill switch
            {
                PresetFill.Normal => PresetKernels.Normal,
                PresetFill.Zeros => PresetKernels.Zeros,
                _ => PresetKernels.Ones,
            },
            Rounding = tensor.DType switch
            {
                TensorDType.F32 => DeviceMath.FormatF32,
                TensorDType.F16 => DeviceMath.FormatF16,
                TensorDType.BF16 => DeviceMath.FormatBF16,
                _ => throw new FloverException($"Preset tensor '{tensor.Name}': presets are generated in F32, F16 or BF16, not {tensor.DType}."),
            },
            Transpose = transpose ? 1 : 0,
            Rows = tensor.Shape[0],
            Columns = tensor.Shape.Length > 1 ? tensor.Shape[1] : 1,
        };

        // Whole blocks of 16 elements, 8 pairs each; the tail block's extra lanes are dropped.
        long pairs = (count + SeededNormal.BlockSize - 1) / SeededNormal.BlockSize * (SeededNormal.BlockSize / 2);
        Begin("GeneratePreset");
        for (long first = 0; first < pairs; first += MaxPairsPerLaunch)
        {
            args.FirstPair = first;
            Launch(nameof(PresetKernels.Fill));
            _kernels.PresetFill(new ILGPU.Index1D((int)Math.Min(MaxPairsPerLaunch, pairs - first)), args);
        }

        End();
    }
}
