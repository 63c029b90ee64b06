using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Flover.Gpu.Accelerators.Ilgpu;

/// <summary>
/// Points ILGPU at this machine's CUDA libraries. ILGPU 1.5.3 imports the driver as "cuda" and
/// probes only libcuda.so / cuda.so / libcuda, never the driver's own soname libcuda.so.1, so on a
/// host without the dev symlink it silently finds 0 devices; and ILGPU.Algorithms knows cuBLAS up
/// to libcublas.so.12 while CUDA 13 ships libcublas.so.13. Registered once, before any CUDA call.
/// Flover's own cuBLAS import (<see cref="CuBlasNative"/>, the fast GEMM) goes through the same
/// cuBLAS probing as ILGPU.Algorithms'.
/// </summary>
internal static class CudaLibraryResolver
{
    private static readonly Lock Gate = new();
    private static bool _registered;

    /// <summary>The driver's soname.</summary>
    public const string DriverLibrary = "libcuda.so.1";

    /// <summary>Registers the resolvers (idempotent: .NET allows one resolver per assembly).</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (_registered)
            {
                return;
            }

            _registered = true;
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, ResolveDriver);
            NativeLibrary.SetDllImportResolver(typeof(CuBlas).Assembly, ResolveBlas);
            // Flover.Gpu's other imports (libc) fall through: the resolver answers 0 for them.
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraryResolver).Assembly, ResolveBlas);
        }
    }

    /// <summary>Whether the CUDA driver library loads on this host.</summary>
    public static bool DriverLoads()
    {
        if (NativeLibrary.TryLoad(DriverLibrary, out nint handle) || NativeLibrary.TryLoad("libcuda.so", out handle) || NativeLibrary.TryLoad("nvcuda.dll", out handle))
        {
            NativeLibrary.Free(handle);
            return true;
        }

        return false;
    }

    private static nint ResolveDriver(string name, System.Reflection.Assembly assembly, DllImportSearchPath? path)
    {
        if (name == "cuda")
        {
            foreach (string candidate in (string[])[DriverLibrary, "libcuda.so"])
            {
                if (NativeLibrary.TryLoad(candidate, out nint handle))
                {
                    return handle;
                }
            }
        }

        return 0;
    }

    private static nint ResolveBlas(string name, System.Reflection.Assembly assembly, DllImportSearchPath? path)
    {
        if (name.StartsWith("libcublas.so.", StringComparison.Ordinal))
        {
            string? configured = Environment.GetEnvironmentVariable("CUBLAS_PATH");
            foreach (string? candidate in (string?[])[configured, "libcublas.so.13", "/usr/local/cuda/targets/x86_64-linux/lib/libcublas.so.13", name])
            {
                if (candidate is not null && NativeLibrary.TryLoad(candidate, out nint handle))
                {
                    return handle;
                }
            }
        }

        return 0;
    }
}
