using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Ilgpu.Tests.Collectives;

/// <summary>Moving test values onto a rank's accelerator and back, for the collectives' device-buffer tests.</summary>
internal static class DeviceBuffers
{
    /// <summary>A new buffer on <paramref name="accelerator"/> holding <paramref name="values"/> (the caller disposes it).</summary>
    public static MemoryBuffer<float> Upload(Accelerator accelerator, float[] values)
    {
        MemoryBuffer<float> buffer = accelerator.Allocate<float>(values.Length);
        accelerator.CopyFromCpu<float>(values, buffer.View);
        return buffer;
    }

    /// <summary>The values of <paramref name="view"/>.</summary>
    public static float[] Download(Accelerator accelerator, ArrayView<float> view)
    {
        var values = new float[view.Length];
        accelerator.CopyToCpu(view, values);
        return values;
    }
}
