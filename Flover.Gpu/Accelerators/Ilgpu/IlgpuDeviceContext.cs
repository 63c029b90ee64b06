using ILGPU;
using ILGPU.Runtime;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// What an <see cref="IlgpuAccelerator"/> and its stream siblings share: the ILGPU context and device,
/// the compiled kernels, the constant placeholder buffers, the count of bytes allocated, and the fault
/// that poisons them all (a CUDA sticky error poisons the context, not one stream). Freed when the
/// last accelerator holding it is disposed, whichever that is.
/// </summary>
internal sealed class IlgpuDeviceContext
{
    private int _holders = 1;
    private long _allocatedBytes;
    private DeviceFaultException? _fault;

    /// <summary>Takes over <paramref name="context"/> and <paramref name="device"/> (disposed with the last holder) and compiles the kernels.</summary>
    public IlgpuDeviceContext(Context context, ILGPU.Runtime.Accelerator device, string deviceName, long? memoryLimit)
    {
        Context = context;
        Device = device;
        MemoryLimit = memoryLimit;
        Kernels = new IlgpuKernelSet(device, deviceName);
        NoFloats = device.Allocate1D<float>(1);
        NoBits = device.Allocate1D<ushort>(1);
        NoFloats.MemSetToZero();
        NoBits.MemSetToZero();
        // The placeholders are read by every stream: they must be zero before any stream runs.
        device.Synchronize();
    }

    public Context Context { get; }

    public ILGPU.Runtime.Accelerator Device { get; }

    public IlgpuKernelSet Kernels { get; }

    /// <summary>A one-element view passed where a kernel's optional F32 operand is absent.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> NoFloats { get; }

    /// <summary>A one-element view passed where a kernel's optional 16-bit operand is absent.</summary>
    public MemoryBuffer1D<ushort, Stride1D.Dense> NoBits { get; }

    /// <summary>A cap on the CPU oracle's memory, so tests can see the out-of-memory error; null on a GPU.</summary>
    public long? MemoryLimit { get; }

    /// <summary>Bytes every holder has allocated and not yet released.</summary>
    public long AllocatedBytes => Interlocked.Read(ref _allocatedBytes);

    /// <summary>The fault that poisoned the context, or null while it is healthy.</summary>
    public DeviceFaultException? Fault => Volatile.Read(ref _fault);

    public void Allocated(long bytes) => Interlocked.Add(ref _allocatedBytes, bytes);

    public void Released(long bytes) => Interlocked.Add(ref _allocatedBytes, -bytes);

    /// <summary>Records <paramref name="fault"/> unless the context is already poisoned (the first fault is the cause).</summary>
    public void Poison(DeviceFaultException fault) => Interlocked.CompareExchange(ref _fault, fault, null);

    /// <summary>One more accelerator holds the context.</summary>
    public void Hold()
    {
        if (Interlocked.Increment(ref _holders) <= 1)
        {
            throw new ObjectDisposedException(nameof(IlgpuDeviceContext), "The device context was freed by its last accelerator.");
        }
    }

    /// <summary>One accelerator lets go; the last one frees the device and the context (and with them any buffer still allocated).</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) != 0)
        {
            return;
        }

        if (Fault is null)
        {
            NoFloats.Dispose();
            NoBits.Dispose();
        }

        // A poisoned context refuses to free buffers one by one; destroying it frees them all.
        Device.Dispose();
        Context.Dispose();
    }
}
