using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Collectives;

/// <summary>
/// Host memory for the collectives of transports that move host bytes (TCP streams, Akka.Remote
/// messages): a buffer in host memory (the CPU accelerator's) is used in place; a device buffer (an
/// ILGPU accelerator's) is copied into a staging array before the exchange and back after it, as
/// <see cref="HostStagedCommunicatorGroup"/> does in one process. The copies move the values
/// unchanged, so a staged group's results are bitwise an unstaged one's. Two staging areas, one for
/// what a collective reads and one for what it writes (a gather needs both at once); each grows to the
/// largest collective and is reused, so steady-state calls allocate nothing. One call at a time.
/// </summary>
internal sealed unsafe class HostStaging
{
    private float[] _input = [];
    private float[] _output = [];

    /// <summary>Whether <paramref name="view"/> is host memory the transports can read in place.</summary>
    public static bool OnHost(ArrayView<float> view) => view.Buffer is CpuMemoryBuffer<float>;

    /// <summary>
    /// <paramref name="view"/>'s elements in host memory: the buffer itself on the host, else the
    /// input staging area holding a copy of them.
    /// </summary>
    public float* Read(ArrayView<float> view)
    {
        if (OnHost(view))
        {
            return CpuAccelerator.Pointer(view);
        }

        float* staged = Area(ref _input, view.Length);
        // The device may still be writing the view (kernels run asynchronously on a GPU): wait for
        // them, as the in-process staged group does, before the host reads it.
        view.Buffer!.Accelerator.Synchronize();
        view.Buffer.Accelerator.CopyToCpu(view, new Span<float>(staged, checked((int)view.Length)));
        return staged;
    }

    /// <summary>
    /// Where a collective writes <paramref name="view"/>'s new elements: the buffer itself on the host,
    /// else the output staging area, which <see cref="Written"/> copies to the device. With
    /// <paramref name="current"/> the staging area first gets the view's present values (a collective
    /// that reads the buffer it writes, as an all-reduce does).
    /// </summary>
    public float* Write(ArrayView<float> view, bool current)
    {
        if (OnHost(view))
        {
            return CpuAccelerator.Pointer(view);
        }

        float* staged = Area(ref _output, view.Length);
        if (current)
        {
            view.Buffer!.Accelerator.Synchronize();
            view.Buffer.Accelerator.CopyToCpu(view, new Span<float>(staged, checked((int)view.Length)));
        }

        return staged;
    }

    /// <summary>Copies the output staging area to a device <paramref name="view"/> (nothing to do for a host buffer, written in place).</summary>
    public void Written(ArrayView<float> view)
    {
        if (!OnHost(view))
        {
            float* staged = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_output));
            view.Buffer!.Accelerator.CopyFromCpu<float>(new ReadOnlySpan<float>(staged, checked((int)view.Length)), view);
        }
    }

    /// <summary>A staging area of at least <paramref name="length"/> floats, on the pinned object heap so its address holds without <c>fixed</c>.</summary>
    private static float* Area(ref float[] area, long length)
    {
        if (area.Length < length)
        {
            area = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
        }

        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(area));
    }
}
