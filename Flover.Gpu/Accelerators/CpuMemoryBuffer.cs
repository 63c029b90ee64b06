using System.Runtime.InteropServices;

namespace Flover.Gpu.Accelerators;

/// <summary>Host memory playing the device's part for the CPU accelerator: 64-byte aligned, zeroed, native.</summary>
internal sealed unsafe class CpuMemoryBuffer<T> : MemoryBuffer<T>
    where T : unmanaged
{
    public CpuMemoryBuffer(Accelerator accelerator, long length)
        : base(accelerator, length)
    {
        nuint bytes = (nuint)Math.Max(length * sizeof(T), 1);
        // 64-byte alignment: a Vector512 load at the start of a buffer never splits a cache line.
        Pointer = (T*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(Pointer, bytes);
    }

    ~CpuMemoryBuffer()
    {
        DisposeCore();
    }

    /// <summary>The first element; valid until disposed.</summary>
    public T* Pointer { get; private set; }

    protected override void DisposeCore()
    {
        if (Pointer != null)
        {
            NativeMemory.AlignedFree(Pointer);
            Pointer = null;
        }
    }
}
