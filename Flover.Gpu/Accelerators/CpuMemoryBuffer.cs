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
        _finalizing = true;
        DisposeCore();
    }

    // Set by the finalizer: it must not run the owner's kernel queue from the finalizer thread.
    private bool _finalizing;

    /// <summary>The first element; valid until disposed.</summary>
    public T* Pointer { get; private set; }

    protected override void DisposeCore()
    {
        if (Pointer != null)
        {
            // Kernels still queued on the owner may use this memory: run them before freeing it.
            if (!_finalizing && Accelerator is CpuAccelerator { IsDisposed: false } owner)
            {
                owner.FlushAndSettle();
            }

            NativeMemory.AlignedFree(Pointer);
            Pointer = null;
        }
    }
}
