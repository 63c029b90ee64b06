using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// One compute device, in ILGPU's shape: it allocates <see cref="MemoryBuffer{T}"/>s, copies between
/// them and the host, and runs a fixed set of kernels (<see cref="MatMul"/>, <see cref="Attention(ArrayView{float}, int, ArrayView{int}, ArrayView{int}, ArrayView{float}, Memory.KvCacheLayout, int, ArrayView{float})"/>,
/// <see cref="LayerNorm"/>, <see cref="Activate"/>, <see cref="Embed(ArrayView{int}, ArrayView{int}, int, DeviceMatrix, ArrayView{float}, ArrayView{float})"/>, ...) over
/// <see cref="ArrayView{T}"/>s. Models are written against this class only, so a CUDA accelerator
/// slots in without touching them.
/// </summary>
/// <remarks>
/// An accelerator is driven by one thread at a time, like a CUDA stream: operations run in call order
/// and each has finished when it returns on the CPU (<see cref="Synchronize"/> exists for devices
/// that queue). Every kernel computes each output element in one fixed order that depends neither on
/// how many rows are in the call nor on the number of workers: that is what makes a sequence's
/// results bitwise the same alone or in any batch.
/// </remarks>
public abstract partial class Accelerator : IDisposable
{
    /// <summary>What this accelerator is.</summary>
    public abstract AcceleratorDevice Device { get; }

    /// <summary>
    /// Whether <see cref="MatMul"/> reduces every output element in one order that does not depend on
    /// the rows in the call (every accelerator's kernels, the default), so a row fused with others is
    /// bitwise the row alone. False on a CUDA device opened with <see cref="EngineOptions.BatchInvariant"/>
    /// off: its matmuls run on cuBLAS's tensor cores, whose kernel choice and split follow the shape.
    /// </summary>
    public virtual bool BatchInvariant => true;

    /// <summary>Whether <see cref="Dispose()"/> has run.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>
    /// Whether this accelerator's kernels may read and write buffers allocated by
    /// <paramref name="other"/>: always itself; on the CPU, any CPU accelerator (it is all host
    /// memory). Host transfers still go through the buffer's own accelerator. This is what lets several model instances, each with its own workers, share one
    /// upload of read-only weights (<see cref="Models.Gpt2.Gpt2SharedWeights"/>).
    /// </summary>
    public virtual bool SharesMemoryWith(Accelerator other) => ReferenceEquals(other, this);

    /// <summary>Allocates <paramref name="length"/> zeroed elements.</summary>
    public MemoryBuffer<T> Allocate<T>(long length)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return AllocateCore<T>(length);
    }

    /// <summary>
    /// Allocates <paramref name="length"/> zeroed elements whose memory is committed as it is first
    /// written, where this accelerator can (host memory on Linux), so a large pool holds only what has
    /// been used; see <see cref="Decommit{T}"/> and <see cref="ResidentBytes{T}"/>. Elsewhere (a GPU,
    /// whose memory is reserved whole) the same as <see cref="Allocate{T}"/>.
    /// </summary>
    public MemoryBuffer<T> AllocateOnDemand<T>(long length)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return AllocateOnDemandCore<T>(length);
    }

    /// <summary>
    /// Says the contents of <paramref name="view"/> are no longer needed: where the buffer was
    /// allocated on demand, the memory behind the view's whole pages goes back to the system (it
    /// reads as zero until written again); elsewhere nothing happens. Either way the caller must
    /// treat the contents as undefined until it writes them.
    /// </summary>
    public void Decommit<T>(ArrayView<T> view)
        where T : unmanaged
    {
        CheckView(view, nameof(view));
        DecommitCore(view);
    }

    /// <summary>Bytes of <paramref name="buffer"/> held in memory now: what has been written and not decommitted for an on-demand buffer, else its whole size.</summary>
    public long ResidentBytes<T>(MemoryBuffer<T> buffer)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer);
        CheckView(buffer.View, nameof(buffer));
        return ResidentBytesCore(buffer);
    }

    /// <summary>Copies host <paramref name="source"/> into <paramref name="destination"/> (same length).</summary>
    public void CopyFromCpu<T>(ReadOnlySpan<T> source, ArrayView<T> destination)
        where T : unmanaged
    {
        CheckView(destination, nameof(destination));
        CheckLength(source.Length, destination.Length, nameof(source));
        CopyFromCpuCore(source, destination);
    }

    /// <summary>Copies <paramref name="source"/> into host <paramref name="destination"/> (same length).</summary>
    public void CopyToCpu<T>(ArrayView<T> source, Span<T> destination)
        where T : unmanaged
    {
        CheckView(source, nameof(source));
        CheckLength(destination.Length, source.Length, nameof(destination));
        CopyToCpuCore(source, destination);
    }

    /// <summary>Copies device <paramref name="source"/> into <paramref name="destination"/> (same length; they may overlap).</summary>
    public void Copy<T>(ArrayView<T> source, ArrayView<T> destination)
        where T : unmanaged
    {
        CheckView(source, nameof(source));
        CheckView(destination, nameof(destination));
        CheckLength(source.Length, destination.Length, nameof(source));
        CopyCore(source, destination);
    }

    /// <summary>Uploads a 2-D checkpoint tensor as a matmul weight held in the tensor's own precision.</summary>
    /// <exception cref="FloverException">The tensor is not 2-D.</exception>
    public DeviceMatrix UploadMatrix(TensorView tensor, MatrixLayout layout) => UploadMatrix(tensor, layout, tensor?.DType ?? TensorDType.F32);

    /// <summary>
    /// Uploads a 2-D checkpoint tensor as a matmul weight held as <paramref name="elementType"/>: the
    /// tensor's own type is kept bit for bit, widening (F16/BF16 to F32) is exact, and narrowing
    /// rounds to nearest, ties to even.
    /// </summary>
    /// <exception cref="FloverException">The tensor is not 2-D.</exception>
    public DeviceMatrix UploadMatrix(TensorView tensor, MatrixLayout layout, TensorDType elementType)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Shape.Count != 2)
        {
            throw new FloverException($"Tensor '{tensor.Name}' must be a matrix but has shape [{string.Join(", ", tensor.Shape)}].");
        }

        return UploadMatrixCore(tensor, layout, elementType);
    }

    /// <summary>Uploads any checkpoint tensor as a flat F32 buffer (F16/BF16 widened exactly).</summary>
    public MemoryBuffer<float> UploadTensor(TensorView tensor)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentNullException.ThrowIfNull(tensor);
        var values = new float[tensor.ElementCount];
        tensor.CopyToSingle(values);
        MemoryBuffer<float> buffer = Allocate<float>(values.Length);
        CopyFromCpu<float>(values, buffer.View);
        return buffer;
    }

    /// <summary>Waits until every queued operation has finished (a no-op where operations are synchronous).</summary>
    public abstract void Synchronize();

    /// <summary>Releases the accelerator's workers and resources (buffers are disposed by their owners).</summary>
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

    /// <summary>Allocates zeroed device memory.</summary>
    protected abstract MemoryBuffer<T> AllocateCore<T>(long length)
        where T : unmanaged;

    /// <summary>Allocates zeroed memory committed as written; by default, as <see cref="AllocateCore{T}"/> (memory reserved whole).</summary>
    protected virtual MemoryBuffer<T> AllocateOnDemandCore<T>(long length)
        where T : unmanaged => AllocateCore<T>(length);

    /// <summary>Returns a checked view's memory to the system where possible; by default nothing.</summary>
    protected virtual void DecommitCore<T>(ArrayView<T> view)
        where T : unmanaged
    {
    }

    /// <summary>Bytes of a checked buffer held now; by default its whole size.</summary>
    protected virtual unsafe long ResidentBytesCore<T>(MemoryBuffer<T> buffer)
        where T : unmanaged => buffer.Length * sizeof(T);

    /// <summary>Host to device copy of checked, equal lengths.</summary>
    protected abstract void CopyFromCpuCore<T>(ReadOnlySpan<T> source, ArrayView<T> destination)
        where T : unmanaged;

    /// <summary>Device to host copy of checked, equal lengths.</summary>
    protected abstract void CopyToCpuCore<T>(ArrayView<T> source, Span<T> destination)
        where T : unmanaged;

    /// <summary>Device to device copy of checked, equal lengths.</summary>
    protected abstract void CopyCore<T>(ArrayView<T> source, ArrayView<T> destination)
        where T : unmanaged;

    /// <summary>Builds the device form of a checked 2-D tensor, its elements held as <paramref name="elementType"/>.</summary>
    protected abstract DeviceMatrix UploadMatrixCore(TensorView tensor, MatrixLayout layout, TensorDType elementType);

    /// <summary>Releases workers and resources (called once).</summary>
    protected abstract void DisposeCore();

    /// <summary>
    /// Checks a view: host transfers (<paramref name="shared"/> false) only on this accelerator's
    /// own buffers; kernels (<paramref name="shared"/> true) also on buffers of an accelerator it
    /// <see cref="SharesMemoryWith"/> (model instances reading one upload of the weights).
    /// </summary>
    private void CheckView<T>(ArrayView<T> view, string name, bool shared = false)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (view.Buffer is null)
        {
            throw new ArgumentException("The view is invalid (default).", name);
        }

        if (shared ? !SharesMemoryWith(view.Buffer.Accelerator) : !ReferenceEquals(view.Buffer.Accelerator, this))
        {
            throw new ArgumentException(shared ? "The view belongs to an accelerator whose memory this one cannot read." : "The view belongs to another accelerator.", name);
        }

        ObjectDisposedException.ThrowIf(view.Buffer.IsDisposed, view.Buffer);
    }

    private static void CheckLength(long actual, long expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"Lengths differ: {actual} and {expected} elements.", name);
        }
    }
}
