using ILGPU;
using ILGPU.Runtime;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>Device memory of an <see cref="IlgpuAccelerator"/>: an ILGPU buffer (at least one element; ILGPU rejects empty ones).</summary>
internal sealed class IlgpuMemoryBuffer<T> : MemoryBuffer<T>
    where T : unmanaged
{
    private readonly IlgpuAccelerator _owner;
    private readonly long _bytes;

    public IlgpuMemoryBuffer(IlgpuAccelerator owner, long length, MemoryBuffer1D<T, Stride1D.Dense> inner, long bytes)
        : base(owner, length)
    {
        _owner = owner;
        Inner = inner;
        _bytes = bytes;
    }

    /// <summary>The ILGPU buffer.</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Inner { get; }

    /// <summary>The ILGPU view of elements [<paramref name="index"/>, + <paramref name="length"/>).</summary>
    public ILGPU.ArrayView<T> Slice(long index, long length) => Inner.View.AsContiguous().SubView(index, length);

    protected override void DisposeCore()
    {
        // Free in the owning device's context, whichever accelerator this thread used last. Once
        // the accelerator is disposed, ILGPU has already released its buffers.
        if (!_owner.IsDisposed)
        {
            _owner.MakeCurrent();
        }

        try
        {
            Inner.Dispose();
        }
        catch (AcceleratorException) when (_owner.Fault is not null)
        {
            // A poisoned context refuses to free one buffer; destroying the context (when the
            // accelerator is disposed) frees them all, so the model's disposal goes on to it.
        }

        _owner.Released(_bytes);
    }
}
