namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// One cuBLAS handle of one CUDA accelerator, bound to that accelerator's stream (a stream sibling has its own) so a GEMM runs in order with
/// the kernels around it (nothing waits on the host). Created once per accelerator, with its device
/// context current (cuBLAS allocates its workspace in the current context); destroyed with it.
/// </summary>
internal sealed class CuBlasGemm : IDisposable
{
    private nint _handle;

    private CuBlasGemm(nint handle)
    {
        _handle = handle;
    }

    /// <summary>Creates the handle on the current context and sets its stream to <paramref name="stream"/>.</summary>
    /// <param name="stream">The accelerator's CUDA stream (<c>CudaStream.StreamPtr</c>; 0 for the default stream).</param>
    /// <param name="deviceName">The device, for the error line.</param>
    /// <exception cref="FloverException">cuBLAS does not load or refuses the handle: one line naming the setting, the call and the status.</exception>
    public static CuBlasGemm Create(nint stream, string deviceName)
    {
        CudaLibraryResolver.Register();
        int status;
        nint handle;
        try
        {
            status = CuBlasNative.Create(out handle);
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            // The loader's message spans lines; the type and the soname say enough.
            throw new FloverException($"flover.engine.batch-invariant = off on {deviceName}: cuBLAS ({CuBlasNative.Library}) could not be loaded ({exception.GetType().Name}); install CUDA 13's cuBLAS or set CUBLAS_PATH to the file.", exception);
        }

        if (status != CuBlasNative.StatusSuccess)
        {
            throw new FloverException($"flover.engine.batch-invariant = off on {deviceName}: cublasCreate failed with {CuBlasNative.StatusName(status)}.");
        }

        status = CuBlasNative.SetStream(handle, stream);
        if (status != CuBlasNative.StatusSuccess)
        {
            _ = CuBlasNative.Destroy(handle);
            throw new FloverException($"flover.engine.batch-invariant = off on {deviceName}: cublasSetStream failed with {CuBlasNative.StatusName(status)}.");
        }

        return new CuBlasGemm(handle);
    }

    /// <summary>
    /// Queues C = A·B + β·C (<paramref name="shape"/> from <see cref="GemmLayout.For"/>, α = 1) and
    /// returns cuBLAS's status; the caller turns a failure into its device fault.
    /// </summary>
    public unsafe int Gemm(GemmArguments shape, GemmTypes types, nint a, nint b, nint c, float beta)
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        float alpha = 1f;
        return CuBlasNative.GemmEx(
            _handle,
            shape.TransA,
            shape.TransB,
            shape.M,
            shape.N,
            shape.K,
            &alpha,
            a,
            types.DataType,
            shape.Lda,
            b,
            types.DataType,
            shape.Ldb,
            &beta,
            c,
            CuBlasNative.DataF32,
            shape.Ldc,
            types.ComputeType,
            CuBlasNative.GemmDefault);
    }

    /// <summary>Destroys the handle (its context must be current; a poisoned context's failure is ignored).</summary>
    public void Dispose()
    {
        if (_handle != 0)
        {
            _ = CuBlasNative.Destroy(_handle);
            _handle = 0;
        }
    }
}
