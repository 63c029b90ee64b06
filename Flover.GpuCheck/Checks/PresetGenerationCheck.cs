using System.Diagnostics;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.GpuCheck.Checks;

/// <summary>
/// Preset weights generated on the device (<see cref="Accelerator.GenerateMatrix"/>,
/// <see cref="Accelerator.GenerateTensor"/>) against the host generator's tensor uploaded: the
/// elements that differ (0 expected: the kernel keeps every rounding of the host's), and the time
/// a whole preset takes to generate in device memory.
/// </summary>
internal static class PresetGenerationCheck
{
    /// <summary>
    /// Elements of <paramref name="recipe"/> that differ between the device's generation and the
    /// upload of the host's, held as <paramref name="held"/> in <paramref name="layout"/> (a
    /// matrix), or as an F32 vector when <paramref name="layout"/> is null.
    /// </summary>
    public static long Mismatches(IlgpuAccelerator accelerator, GeneratedTensor recipe, MatrixLayout? layout, TensorDType held)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(recipe);
        if (layout is { } matrixLayout)
        {
            using var generated = (IlgpuMatrix)accelerator.GenerateMatrix(recipe, matrixLayout, held);
            using var uploaded = (IlgpuMatrix)PresetWeightGenerator.WithHostCopy(recipe, view => accelerator.UploadMatrix(view, matrixLayout, held));
            return Differences(generated.DownloadBits(accelerator), uploaded.DownloadBits(accelerator));
        }

        using MemoryBuffer<float> device = accelerator.GenerateTensor(recipe);
        using MemoryBuffer<float> host = PresetWeightGenerator.WithHostCopy(recipe, accelerator.UploadTensor);
        var a = new float[device.Length];
        var b = new float[host.Length];
        accelerator.CopyToCpu<float>(device.View, a);
        accelerator.CopyToCpu<float>(host.View, b);
        return Differences([.. a.Select(BitConverter.SingleToUInt32Bits)], [.. b.Select(BitConverter.SingleToUInt32Bits)]);
    }

    /// <summary>
    /// Generates every tensor of preset <paramref name="preset"/> on the device as an engine loading
    /// it holds them (matrices in <paramref name="held"/>, vectors in F32), waits for the device, frees
    /// them; returns the seconds and the bytes generated.
    /// </summary>
    public static (double Seconds, long Bytes) TimePreset(IlgpuAccelerator accelerator, string preset, TensorDType held)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        using var weights = new PresetWeights(preset);
        var owned = new List<IDisposable>();
        long bytes = 0;
        var timer = Stopwatch.StartNew();
        try
        {
            foreach (string name in weights.TensorNames.Where(n => n != Gpt2TensorNames.LmHead))
            {
                GeneratedTensor recipe = weights.Recipe(name);
                if (recipe.Shape.Length == 2 && name != Gpt2TensorNames.PositionEmbedding)
                {
                    DeviceMatrix matrix = accelerator.GenerateMatrix(recipe, name == Gpt2TensorNames.TokenEmbedding ? MatrixLayout.OutputMajor : MatrixLayout.InputMajor, held);
                    owned.Add(matrix);
                    bytes += matrix.ByteSize;
                }
                else
                {
                    MemoryBuffer<float> vector = accelerator.GenerateTensor(recipe);
                    owned.Add(vector);
                    bytes += vector.Length * sizeof(float);
                }
            }

            accelerator.Synchronize();
            return (timer.Elapsed.TotalSeconds, bytes);
        }
        finally
        {
            owned.ForEach(item => item.Dispose());
        }
    }

    private static long Differences(uint[] a, uint[] b) =>
        a.Length != b.Length ? Math.Max(a.Length, b.Length) : a.Zip(b).LongCount(pair => pair.First != pair.Second);
}
