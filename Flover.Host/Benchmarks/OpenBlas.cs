using System.Runtime.InteropServices;

namespace Flover.Host.Benchmarks;

/// <summary>
/// The few OpenBLAS entry points <c>bench-kernels</c> compares against (<c>cblas_sgemm</c>,
/// <c>cblas_sgemv</c>, <c>openblas_set_num_threads</c>), bound at run time so that Flover neither
/// ships nor needs OpenBLAS: where Debian's <c>libopenblas0</c> is absent the comparison is skipped
/// with a note. Used by the benchmark only; the engine never calls it.
/// </summary>
internal sealed unsafe class OpenBlas : IDisposable
{
    // CBLAS enum values (cblas.h).
    private const int RowMajor = 101;
    private const int NoTrans = 111;
    private const int Trans = 112;

    private static readonly string[] LibraryNames =
    [
        "libopenblas.so.0",
        "libopenblas.so",
        "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
        "libopenblas.dylib",
    ];

    private readonly nint _library;
    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private readonly delegate* unmanaged<int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemv;
    private readonly delegate* unmanaged<int, void> _setThreads;

    private OpenBlas(nint library, string path)
    {
        _library = library;
        Path = path;
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)NativeLibrary.GetExport(library, "cblas_sgemm");
        _sgemv = (delegate* unmanaged<int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)NativeLibrary.GetExport(library, "cblas_sgemv");
        _setThreads = NativeLibrary.TryGetExport(library, "openblas_set_num_threads", out nint setThreads)
            ? (delegate* unmanaged<int, void>)setThreads
            : null;
    }

    /// <summary>The library that was loaded.</summary>
    public string Path { get; }

    /// <summary>Loads OpenBLAS, or returns null with the reason when it is not installed.</summary>
    public static OpenBlas? TryLoad(out string? whyNot)
    {
        foreach (string name in LibraryNames)
        {
            if (NativeLibrary.TryLoad(name, out nint library))
            {
                if (NativeLibrary.TryGetExport(library, "cblas_sgemm", out _) && NativeLibrary.TryGetExport(library, "cblas_sgemv", out _))
                {
                    whyNot = null;
                    return new OpenBlas(library, name);
                }

                NativeLibrary.Free(library);
            }
        }

        whyNot = "OpenBLAS is not installed (Debian: apt-get install libopenblas0), so its columns are empty";
        return null;
    }

    /// <summary>Sets OpenBLAS's thread count, so it runs on as many cores as Flover's workers.</summary>
    public void SetThreads(int threads)
    {
        if (_setThreads != null)
        {
            _setThreads(threads);
        }
    }

    /// <summary>
    /// <c>c[M, N] = a[M, K] · W</c> where W is [K, N] (<paramref name="weightsTransposed"/> false, GPT-2's
    /// Conv1D) or stored as [N, K] (true, the LM head). M = 1 goes through <c>cblas_sgemv</c>, as
    /// llama.cpp-style decode does.
    /// </summary>
    public void Multiply(float* a, int m, int k, float* w, int n, bool weightsTransposed, float* c)
    {
        if (m == 1)
        {
            // y = Wᵀx for [K, N]; y = W x for [N, K].
            if (weightsTransposed)
            {
                _sgemv(RowMajor, NoTrans, n, k, 1f, w, k, a, 1, 0f, c, 1);
            }
            else
            {
                _sgemv(RowMajor, Trans, k, n, 1f, w, n, a, 1, 0f, c, 1);
            }

            return;
        }

        _sgemm(RowMajor, NoTrans, weightsTransposed ? Trans : NoTrans, m, n, k, 1f, a, k, w, weightsTransposed ? k : n, 0f, c, n);
    }

    public void Dispose() => NativeLibrary.Free(_library);
}
