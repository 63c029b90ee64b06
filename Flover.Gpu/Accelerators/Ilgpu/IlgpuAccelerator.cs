using Flover.Gpu.Checkpoints;
using Flover.Gpu.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// An accelerator whose kernels are ILGPU kernels (<see cref="Kernels.Ilgpu"/>): on a CUDA GPU
/// (<c>flover.engine.device = cuda</c>), and on ILGPU's CPU accelerator as the tests' oracle (never
/// a serving device: it runs each GPU thread as managed code). Operations are queued on the device's
/// default stream in call order; host copies wait for it. Every kernel is compiled at construction.
/// </summary>
/// <remarks>
/// A CUDA context is current per thread; every operation first makes this accelerator's context
/// current on the calling thread unless it already is, so a decode loop's pinned thread, a
/// tensor-parallel shard's thread, or one thread driving several shards' accelerators all work.
/// </remarks>
public sealed partial class IlgpuAccelerator : Accelerator
{
    private readonly IlgpuDeviceContext _shared;
    private readonly ILGPU.Runtime.Accelerator _device;
    private readonly AcceleratorStream _stream;
    private readonly bool _ownsStream;
    private readonly IlgpuStreamKernels _kernels;
    private MemoryBuffer<float>? _scores;
    private MemoryBuffer<float>? _sums;
    private MemoryBuffer<float>? _bounce;
    private MemoryBuffer<float>? _partials;

    /// <summary>The device whose context is current on this thread (CUDA contexts are per thread; siblings share one).</summary>
    [ThreadStatic]
    private static ILGPU.Runtime.Accelerator? t_bound;

    internal IlgpuAccelerator(Context context, ILGPU.Runtime.Accelerator device, AcceleratorDevice description, long? memoryLimit = null, int matMulChunk = DefaultMatMulChunk)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(matMulChunk);
        MatMulChunk = matMulChunk;
        Device = description;
        try
        {
            _shared = new IlgpuDeviceContext(context, device, description.Name, memoryLimit);
        }
        catch
        {
            device.Dispose();
            context.Dispose();
            throw;
        }

        _device = device;
        _stream = device.DefaultStream;
        _kernels = _shared.Kernels.On(_stream, Poison);
        // Creating the device made its context current on this thread.
        t_bound = device;
    }

    private IlgpuAccelerator(IlgpuAccelerator home)
    {
        MatMulChunk = home.MatMulChunk;
        Device = home.Device;
        FusedAttention = home.FusedAttention;
        _shared = home._shared;
        _device = home._device;
        home.Bind();
        _shared.Hold();
        try
        {
            _stream = _device.CreateStream();
        }
        catch
        {
            _shared.Release();
            throw;
        }

        _ownsStream = true;
        _kernels = _shared.Kernels.On(_stream, Poison);
        UseBatchInvariantKernels = home.UseBatchInvariantKernels;
        if (home._blas is not null)
        {
            // The home multiplies on cuBLAS: so does its sibling, with a handle on its own stream.
            try
            {
                EnableFastGemm();
            }
            catch
            {
                _stream.Dispose();
                _shared.Release();
                throw;
            }
        }
    }

    /// <summary>The k range of one split-K chunk on a GPU.</summary>
    internal const int DefaultMatMulChunk = 256;

    /// <summary>Matrices with fewer output columns than this are multiplied split-K (fills the device at small batches).</summary>
    internal const int SplitKBelowColumns = 8192;

    /// <inheritdoc />
    public override AcceleratorDevice Device { get; }

    /// <summary>The k range of one split-K chunk (small on the CPU oracle, so tiny test models take the split path too).</summary>
    internal int MatMulChunk { get; }

    /// <summary>
    /// Whether attention runs as one launch (<c>AttentionKernels.Fused</c>, the default) or as its three
    /// reference kernels; both give the same bits, the tests and the GPU check compare them.
    /// </summary>
    internal bool FusedAttention { get; set; } = true;

    /// <summary>Whether this runs on ILGPU's CPU accelerator (the test oracle) rather than a GPU.</summary>
    public bool IsCpuOracle => _device.AcceleratorType == AcceleratorType.CPU;

    /// <summary>Launches, allocations and host crossings so far.</summary>
    public IlgpuCounters Counters { get; } = new();

    /// <summary>Bytes this accelerator and its stream siblings have allocated and not yet released.</summary>
    public long AllocatedBytes => _shared.AllocatedBytes;

    /// <summary>Device memory free now, in bytes: the driver's count on a GPU, the rest of <see cref="MemoryLimit"/> (or the emulated memory size) on the CPU oracle.</summary>
    public long FreeBytes
    {
        get
        {
            if (_device is CudaAccelerator cuda)
            {
                // The driver answers for the context current on this thread.
                Bind();
                return cuda.GetFreeMemory();
            }

            return (MemoryLimit ?? _device.MemorySize) - AllocatedBytes;
        }
    }

    /// <summary>Total device memory, in bytes.</summary>
    public long TotalBytes => MemoryLimit ?? _device.MemorySize;

    /// <summary>A cap on the CPU oracle's memory, so tests can see the out-of-memory error; null on a GPU.</summary>
    internal long? MemoryLimit => _shared.MemoryLimit;

    /// <summary>The ILGPU accelerator underneath (the GPU check reads its properties).</summary>
    internal ILGPU.Runtime.Accelerator Native => _device;

    /// <inheritdoc />
    public override void Synchronize()
    {
        Bind();
        // This accelerator's stream only: its siblings' work runs on, unwaited.
        Guard(_stream.Synchronize);
    }

    /// <summary>
    /// A sibling of this accelerator on a stream of its own: same device, context, compiled kernels and
    /// memory (a model may run on it over weights uploaded here, see <see cref="SharesMemoryWith"/>),
    /// so model instances driven from their own threads run concurrently on the device, as
    /// FasterTransformer's concurrent instances do. A device fault poisons every sibling (CUDA's sticky
    /// errors poison the context). Dispose each sibling; the device goes with the last one disposed.
    /// </summary>
    public IlgpuAccelerator CreateStreamSibling() => new(this);

    /// <inheritdoc />
    /// <remarks>Stream siblings share one device memory.</remarks>
    public override bool SharesMemoryWith(Accelerator other) => other is IlgpuAccelerator ilgpu && ilgpu._shared == _shared;

    /// <summary>The kernels' view of a weight matrix's elements.</summary>
    internal WeightView WeightsOf(TensorDType type, MemoryBuffer<float>? single, MemoryBuffer<ushort>? bits) => new()
    {
        Single = single is null ? _shared.NoFloats.View.AsContiguous() : View(single.View),
        Bits = bits is null ? _shared.NoBits.View.AsContiguous() : View(bits.View),
        Format = type switch
        {
            TensorDType.F16 => DeviceMath.FormatF16,
            TensorDType.BF16 => DeviceMath.FormatBF16,
            _ => DeviceMath.FormatF32,
        },
    };

    /// <summary>Called by a buffer when it frees its memory.</summary>
    internal void Released(long bytes) => _shared.Released(bytes);

    /// <summary>The ILGPU view of one of this accelerator's views.</summary>
    internal static ILGPU.ArrayView<T> View<T>(ArrayView<T> view)
        where T : unmanaged => ((IlgpuMemoryBuffer<T>)view.Buffer!).Slice(view.Index, view.Length);

    /// <inheritdoc />
    protected override unsafe MemoryBuffer<T> AllocateCore<T>(long length)
    {
        Bind();
        long bytes = Math.Max(length, 1) * sizeof(T);
        long free = FreeBytes;
        if (bytes > free)
        {
            throw OutOfMemory(bytes, free, null);
        }

        MemoryBuffer1D<T, Stride1D.Dense> inner;
        try
        {
            inner = _device.Allocate1D<T>(Math.Max(length, 1));
            // On this accelerator's stream: a sibling's stream does not wait for the default one.
            inner.MemSetToZero(_stream);
        }
        catch (Exception exception) when (exception is AcceleratorException or OutOfMemoryException)
        {
            throw OutOfMemory(bytes, FreeBytes, exception);
        }

        _shared.Allocated(bytes);
        Counters.Allocated();
        return new IlgpuMemoryBuffer<T>(this, length, inner, bytes);
    }

    /// <inheritdoc />
    protected override unsafe void CopyFromCpuCore<T>(ReadOnlySpan<T> source, ArrayView<T> destination)
    {
        if (source.IsEmpty)
        {
            return;
        }

        Bind();
        try
        {
            ((ArrayView1D<T, Stride1D.Dense>)View(destination)).CopyFromCPU(_stream, source);
            // The source is pageable host memory the caller may reuse at once: wait for the copy.
            _stream.Synchronize();
        }
        catch (AcceleratorException exception)
        {
            throw Poison(exception);
        }

        Counters.HostToDevice(source.Length * (long)sizeof(T));
    }

    /// <inheritdoc />
    protected override unsafe void CopyToCpuCore<T>(ArrayView<T> source, Span<T> destination)
    {
        if (destination.IsEmpty)
        {
            return;
        }

        Bind();
        try
        {
            // An earlier kernel's asynchronous fault (an illegal address) surfaces here, at the
            // step's one host crossing, which is why every copy is guarded, not only the launches.
            ((ArrayView1D<T, Stride1D.Dense>)View(source)).CopyToCPU(_stream, destination);
            _stream.Synchronize();
        }
        catch (AcceleratorException exception)
        {
            throw Poison(exception);
        }

        Counters.DeviceToHost(destination.Length * (long)sizeof(T));
    }

    /// <inheritdoc />
    protected override unsafe void CopyCore<T>(ArrayView<T> source, ArrayView<T> destination)
    {
        if (source.Length == 0)
        {
            return;
        }

        Bind();
        Counters.DeviceToDevice();
        bool overlap = ReferenceEquals(source.Buffer, destination.Buffer)
            && source.Index < destination.Index + destination.Length
            && destination.Index < source.Index + source.Length;
        if (!overlap || source.Index == destination.Index)
        {
            Guard(() => View(source).CopyTo(_stream, View(destination)));
            return;
        }

        // A device copy between overlapping ranges is undefined; go through a scratch buffer
        // (grown once to the largest such copy; the engine's slot moves never overlap).
        long elements = (source.Length * sizeof(T) + sizeof(float) - 1) / sizeof(float);
        MemoryBuffer<float> bounce = Scratch(ref _bounce, elements);
        ILGPU.ArrayView<T> staging = View(bounce.View).Cast<T>().SubView(0, source.Length);
        Guard(() =>
        {
            View(source).CopyTo(_stream, staging);
            staging.CopyTo(_stream, View(destination));
        });
    }

    /// <inheritdoc />
    protected override DeviceMatrix UploadMatrixCore(TensorView tensor, MatrixLayout layout, TensorDType elementType)
    {
        DeviceMatrix matrix = IlgpuMatrix.Upload(this, tensor, layout, elementType);
        return matrix;
    }

    /// <inheritdoc />
    protected override void DisposeCore()
    {
        // The device context must be current on the disposing thread to free its memory.
        MakeCurrent();
        try
        {
            DisposeBuffers();
            if (_ownsStream)
            {
                _stream.Dispose();
            }
        }
        catch (AcceleratorException) when (Fault is not null)
        {
            // A poisoned context refuses to free buffers one by one; the last holder destroys it, freeing them all.
        }

        _shared.Release();
    }

    private void DisposeBuffers()
    {
        DisposeFastGemm();
        _scores?.Dispose();
        _sums?.Dispose();
        _bounce?.Dispose();
        _partials?.Dispose();
        _samplingRows?.Dispose();
        _samplingEdits?.Dispose();
        _samplingWeights?.Dispose();
        _samplingRaw?.Dispose();
        _noInts?.Dispose();
    }

    /// <summary>
    /// Makes this accelerator's device context current on the calling thread unless it already is:
    /// a thread may drive several accelerators (tensor-parallel shards on one GPU, each with its own
    /// context), and one accelerator may be driven from several threads in turn.
    /// </summary>
    internal void MakeCurrent()
    {
        if (!ReferenceEquals(t_bound, _device))
        {
            _device.Bind();
            t_bound = _device;
        }
    }

    private void Bind()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ThrowIfFaulted();
        MakeCurrent();
    }

    /// <summary>A scratch buffer of at least <paramref name="length"/> elements, grown (never shrunk) when a call needs more.</summary>
    private MemoryBuffer<T> Scratch<T>(ref MemoryBuffer<T>? buffer, long length)
        where T : unmanaged
    {
        if (buffer is null || buffer.Length < length)
        {
            if (buffer is not null)
            {
                // Kernels queued earlier on this stream may still read the old buffer.
                _stream.Synchronize();
                buffer.Dispose();
            }

            buffer = null;
            buffer = Allocate<T>(length);
        }

        return buffer;
    }

    private FloverException OutOfMemory(long bytes, long free, Exception? cause)
    {
        string message = $"{Device.Name} ({Device.Details}): not enough device memory: {bytes:N0} bytes needed, {Math.Max(free, 0):N0} free of {TotalBytes:N0}. Use fewer KV slots, a shorter slot capacity or 16-bit weights.";
        return cause is null ? new FloverException(message) : new FloverException(message, cause);
    }
}
