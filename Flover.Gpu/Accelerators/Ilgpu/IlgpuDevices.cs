using ILGPU;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// Opens ILGPU accelerators: a CUDA GPU (<c>cuda</c>, <c>cuda:N</c>) with one clear error for each way
/// that can fail, and ILGPU's CPU accelerator as the tests' oracle.
/// </summary>
public static class IlgpuDevices
{
    /// <summary>Opens CUDA device <paramref name="ordinal"/> and compiles every kernel for it.</summary>
    /// <exception cref="FloverException">No CUDA driver, no CUDA device, <paramref name="ordinal"/> out of range, or a kernel that does not compile.</exception>
    public static IlgpuAccelerator OpenCuda(int ordinal = 0) => OpenCuda(ordinal, IlgpuAccelerator.DefaultMatMulChunk);

    /// <summary>
    /// As <see cref="OpenCuda(int)"/> with another split-K chunk (the GPU check times a few) and, with
    /// <paramref name="batchInvariant"/> false, the fast GEMM mode (matmuls on cuBLAS).
    /// </summary>
    internal static IlgpuAccelerator OpenCuda(int ordinal, int matMulChunk, bool batchInvariant = true)
    {
        IlgpuAccelerator accelerator = OpenCudaKernels(ordinal, matMulChunk);
        if (batchInvariant)
        {
            return accelerator;
        }

        try
        {
            accelerator.EnableFastGemm();
            return accelerator;
        }
        catch
        {
            accelerator.Dispose();
            throw;
        }
    }

    private static IlgpuAccelerator OpenCudaKernels(int ordinal, int matMulChunk)
    {
        string name = $"cuda:{ordinal}";
        CudaLibraryResolver.Register();
        if (!CudaLibraryResolver.DriverLoads())
        {
            throw new FloverException($"flover.engine.device = {name}: no CUDA driver on this host ({CudaLibraryResolver.DriverLibrary} could not be loaded); install the NVIDIA driver or use device cpu.");
        }

        Context context = Context.Create(builder => builder.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        SuppressContextFinalizer(context);
        try
        {
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
            {
                throw new FloverException($"flover.engine.device = {name}: the CUDA driver loads but reports no device ILGPU can use{DescribeRejected()}; use device cpu.");
            }

            if (ordinal < 0 || ordinal >= devices.Count)
            {
                throw new FloverException($"flover.engine.device = {name}: this host has {devices.Count} CUDA device(s), cuda:0..cuda:{devices.Count - 1}.");
            }

            CudaDevice device = devices[ordinal];
            CudaAccelerator accelerator = device.CreateCudaAccelerator(context);
            string details = $"{device.Name}, {device.Architecture}, {device.NumMultiprocessors} SMs, {device.MemorySize / (1L << 20):N0} MiB, PTX ISA {accelerator.InstructionSet}, ILGPU {typeof(Context).Assembly.GetName().Version}";
            return new IlgpuAccelerator(context, accelerator, new AcceleratorDevice(AcceleratorKind.Cuda, name, details), matMulChunk: matMulChunk);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Whether a CUDA GPU is usable here (driver loads and ILGPU lists a device); never throws.</summary>
    public static bool CudaAvailable(out string reason)
    {
        try
        {
            CudaLibraryResolver.Register();
            if (!CudaLibraryResolver.DriverLoads())
            {
                reason = $"no CUDA driver ({CudaLibraryResolver.DriverLibrary} does not load)";
                return false;
            }

            using Context context = Context.Create(builder => builder.Cuda());
            int count = context.GetCudaDevices().Count;
            reason = count == 0 ? "the CUDA driver reports no usable device" : $"{count} CUDA device(s)";
            return count > 0;
        }
        catch (Exception exception)
        {
            reason = $"CUDA probe failed: {exception.Message}";
            return false;
        }
    }

    /// <summary>
    /// Opens ILGPU's CPU accelerator: every kernel runs as managed code on simulated warps of
    /// <paramref name="warpSize"/> threads. A correctness oracle for tests and CI, never a serving
    /// device. <paramref name="memoryLimit"/> caps its memory so tests can exhaust it;
    /// <paramref name="matMulChunk"/> is the split-K chunk (small by default, so tiny test models
    /// take the split path a GPU takes at GPT-2's shapes).
    /// </summary>
    public static IlgpuAccelerator OpenCpuOracle(int warpSize = 4, long? memoryLimit = null, int matMulChunk = 16)
    {
        var device = new CPUDevice(warpSize, 4, 1);
        // Assertions on: every view access in a kernel is bounds-checked, so a kernel that would read
        // or write outside its buffer on a GPU (silently) stops the test run here instead.
        Context context = Context.Create(builder => builder.CPU(device).EnableAlgorithms().Optimize(OptimizationLevel.O2).Assertions());
        SuppressContextFinalizer(context);
        try
        {
            CPUAccelerator accelerator = context.CreateCPUAccelerator(0);
            return new IlgpuAccelerator(context, accelerator, new AcceleratorDevice(AcceleratorKind.IlgpuCpu, "ilgpu-cpu", $"ILGPU CPU accelerator, warp {warpSize}, test oracle"), memoryLimit, matMulChunk);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// ILGPU 1.5.3's Context finalizer throws a NullReferenceException (ExtensionBase.Dispose on the
    /// finalizer thread), which kills the process; it was seen when a test host was torn down with a
    /// context still alive. Flover disposes every context it keeps explicitly (the accelerator owns
    /// it), so the finalizer is only a crash risk: an undisposed context now leaks instead.
    /// </summary>
    private static void SuppressContextFinalizer(Context context) => GC.SuppressFinalize(context);

    private static string DescribeRejected()
    {
        // Devices ILGPU does not support (too old, or too new for its PTX tables) are filtered out by
        // default; name them so the error says why the GPU is not used.
        try
        {
            using Context all = Context.Create(builder => builder.Cuda(_ => true));
            var names = new List<string>();
            foreach (CudaDevice device in all.GetCudaDevices())
            {
                names.Add($"{device.Name} {device.Architecture}");
            }

            return names.Count == 0 ? string.Empty : $" (present but unsupported by ILGPU: {string.Join(", ", names)})";
        }
        catch (Exception)
        {
            return string.Empty;
        }
    }
}
