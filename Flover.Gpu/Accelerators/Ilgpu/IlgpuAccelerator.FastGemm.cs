using Flover.Gpu.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// The fast GEMM mode (<c>flover.engine.batch-invariant = off</c>): every <see cref="Accelerator.MatMul"/>
/// goes through cublasGemmEx on the tensor cores instead of <see cref="LinearKernels.MatMul"/>. cuBLAS
/// picks its kernel, tiling and split-K by the shape, rows included, so an element's order of
/// additions changes with the batch: a row fused with others is no longer bitwise the row alone,
/// and a request cannot fail over exactly. Bias, activation and accumulation stay in Flover's kernels.
/// </summary>
public sealed partial class IlgpuAccelerator
{
    private CuBlasGemm? _blas;
    private MemoryBuffer<ushort>? _narrowed;
    private MemoryBuffer<float>? _gemmOutput;

    /// <inheritdoc />
    public override bool BatchInvariant => _blas is null || UseBatchInvariantKernels;

    /// <summary>The GPU check's switch: with cuBLAS on, multiply with the batch-invariant kernels anyway (to compare the two on one accelerator).</summary>
    internal bool UseBatchInvariantKernels { get; set; }

    /// <summary>Creates this accelerator's cuBLAS handle on its stream (a stream sibling gets its own); from now on matmuls run on cuBLAS.</summary>
    /// <exception cref="FloverException">The CPU oracle (no cuBLAS there), or cuBLAS does not load or start: one line.</exception>
    internal void EnableFastGemm()
    {
        if (_device is not CudaAccelerator)
        {
            throw new FloverException(DeviceAccelerators.FastGemmRefusal(Device.Name));
        }

        if (_blas is null)
        {
            Bind();
            _blas = CuBlasGemm.Create(((CudaStream)_stream).StreamPtr, Device.Name);
        }
    }

    /// <summary>Runs the matmul on cuBLAS when the fast mode is on; false leaves it to the kernels.</summary>
    private bool TryFastMatMul(ArrayView<float> input, int rows, IlgpuMatrix matrix, ArrayView<float> bias, ArrayView<float> output, KernelActivation activation, bool accumulate)
    {
        if (_blas is null || UseBatchInvariantKernels)
        {
            return false;
        }

        GemmTypes types = GemmLayout.TypesFor(matrix.ElementType);
        GemmArguments shape = GemmLayout.For(rows, matrix.InputSize, matrix.OutputSize);
        WeightView weights = matrix.Weights(this);
        nint a = types.NarrowsInput ? Address(weights.Bits) : Address(weights.Single);
        nint b = Address(View(input));
        if (types.NarrowsInput)
        {
            long count = (long)rows * matrix.InputSize;
            ILGPU.ArrayView<ushort> narrowed = View(Scratch(ref _narrowed, count).View).SubView(0, count);
            Narrow(View(input).SubView(0, count), narrowed, weights.Format);
            b = Address(narrowed);
        }

        // Plain products land in the output directly, a plain accumulation through β = 1; a bias or
        // an activation goes through a scratch product and MatMulReduce's epilogue over one chunk,
        // the very Store the batch-invariant kernels end with.
        bool epilogue = bias.IsValid || activation != KernelActivation.None;
        ILGPU.ArrayView<float> product = epilogue ? View(Scratch(ref _gemmOutput, (long)rows * matrix.OutputSize).View) : View(output);
        Launch("cublasGemmEx");
        int status = _blas.Gemm(shape, types, a, b, Address(product), !epilogue && accumulate ? 1f : 0f);
        if (status != CuBlasNative.StatusSuccess)
        {
            throw Poison($"cublasGemmEx (m {shape.M}, n {shape.N}, k {shape.K}, {matrix.ElementType} weights) failed with {CuBlasNative.StatusName(status)}", null);
        }

        if (epilogue)
        {
            MatMulArgs args = MatMulArguments(input, rows, matrix, weights, bias, output, activation, accumulate, product);
            Launch(nameof(LinearKernels.MatMulReduce));
            _kernels.MatMulReduce(new Index2D(matrix.OutputSize, rows), args);
        }

        return true;
    }

    /// <summary>Test hook: rounds <paramref name="input"/> into <paramref name="output"/> as the fast GEMM rounds activations for 16-bit weights of <paramref name="type"/>.</summary>
    internal void NarrowForGemm(ArrayView<float> input, ArrayView<ushort> output, Checkpoints.TensorDType type)
    {
        Bind();
        Narrow(View(input), View(output), WeightsOf(type, null, null).Format);
    }

    /// <summary>Test hook: the device address cuBLAS is given for <paramref name="view"/>.</summary>
    internal static nint DeviceAddress<T>(ArrayView<T> view)
        where T : unmanaged => Address(View(view));

    private void Narrow(ILGPU.ArrayView<float> input, ILGPU.ArrayView<ushort> output, int format)
    {
        Launch(nameof(GemmKernels.Narrow));
        _kernels.Narrow(new Index1D(checked((int)input.Length)), input, output, format);
    }

    /// <summary>
    /// The device address of a view's first element (its buffer's pointer plus the view's offset in
    /// bytes): ILGPU's host-side extension, not the same-named instance method kernels use.
    /// </summary>
    private static nint Address<T>(ILGPU.ArrayView<T> view)
        where T : unmanaged => ArrayViewExtensions.LoadEffectiveAddressAsPtr(view);

    private void DisposeFastGemm()
    {
        _blas?.Dispose();
        _blas = null;
        _narrowed?.Dispose();
        _gemmOutput?.Dispose();
    }
}
