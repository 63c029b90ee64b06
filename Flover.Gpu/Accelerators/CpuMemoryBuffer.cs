namespace Flover.Gpu.Accelerators;

/// <summary>
/// Host memory playing the device's part for the CPU accelerator: 64-byte aligned, zeroed, native (<see cref="HostMemory"/>).
/// An on-demand buffer (Linux) is an anonymous mapping whose pages are committed as they are first
/// written and can be handed back (<see cref="Decommit"/>); any other is committed whole.
/// </summary>
internal sealed unsafe class CpuMemoryBuffer<T> : MemoryBuffer<T>
    where T : unmanaged
{
    private readonly nuint _bytes;
    private readonly bool _mapped;

    public CpuMemoryBuffer(Accelerator accelerator, long length, bool onDemand = false)
        : base(accelerator, length)
    {
        _bytes = (nuint)Math.Max(length * sizeof(T), 1);
        if (onDemand && LinuxPages.Supported)
        {
            // Page-aligned, so also 64-byte aligned; the kernel supplies zeroed pages when written.
            Pointer = (T*)LinuxPages.Map(_bytes, smallPages: true);
            _mapped = true;
            return;
        }

        Pointer = (T*)HostMemory.Allocate((long)_bytes);
    }

    ~CpuMemoryBuffer()
    {
        DisposeCore();
    }

    /// <summary>The first element; valid until disposed.</summary>
    public T* Pointer { get; private set; }

    /// <summary>Bytes of the buffer held in memory now: the resident pages of an on-demand buffer, else all of it.</summary>
    public long ResidentBytes => _mapped ? LinuxPages.ResidentBytes((byte*)Pointer, (long)_bytes) : (long)_bytes;

    /// <summary>Hands the whole pages of elements [<paramref name="index"/>, +<paramref name="length"/>) back to the system (on-demand buffers only; others keep their memory).</summary>
    public void Decommit(long index, long length)
    {
        if (_mapped)
        {
            LinuxPages.Decommit((byte*)(Pointer + index), length * sizeof(T));
        }
    }

    protected override void DisposeCore()
    {
        if (Pointer == null)
        {
            return;
        }

        if (_mapped)
        {
            LinuxPages.Unmap(Pointer, _bytes);
        }
        else
        {
            HostMemory.Free(Pointer, (long)_bytes);
        }

        Pointer = null;
    }
}
