namespace Flover.Gpu.Accelerators;

/// <summary>
/// Device memory owned by the host: an array of <typeparamref name="T"/> on an accelerator, as
/// ILGPU's <c>MemoryBuffer1D</c>. Kernels never see the buffer, only <see cref="ArrayView{T}"/>
/// windows of it; the host reads and writes it through the accelerator's copy operations.
/// </summary>
/// <typeparam name="T">An unmanaged element type.</typeparam>
public abstract class MemoryBuffer<T> : IDisposable
    where T : unmanaged
{
    /// <summary>Creates the owner of <paramref name="length"/> elements on <paramref name="accelerator"/>.</summary>
    protected MemoryBuffer(Accelerator accelerator, long length)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Accelerator = accelerator;
        Length = length;
    }

    /// <summary>The accelerator whose memory this is.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>Whether <see cref="Dispose()"/> has released the memory.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>A view of the whole buffer.</summary>
    public ArrayView<T> View => new(this, 0, Length);

    /// <summary>Releases the device memory; views of it become invalid to use.</summary>
    public void Dispose()
    {
        if (IsDisposed)
        {
            return;
        }

        IsDisposed = true;
        DisposeCore();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the device memory (called once).</summary>
    protected abstract void DisposeCore();
}
