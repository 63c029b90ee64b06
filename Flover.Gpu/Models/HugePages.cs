using System.Runtime.InteropServices;

namespace Flover.Gpu.Models;

/// <summary>
/// Asks Linux to back large, not yet touched allocations with transparent huge pages. Filling
/// gigabytes of fresh memory otherwise costs one page fault per 4 KiB, which takes longer than
/// generating the values; with 2 MiB pages the faults all but vanish. Advice only: a kernel
/// that refuses it (or another OS) just uses small pages.
/// </summary>
internal static unsafe partial class HugePages
{
    private const int MadviseHugePage = 14;
    private const long HugePageSize = 2 << 20;

    /// <summary>Advises huge pages for the whole 2 MiB pages inside [<paramref name="start"/>, +<paramref name="length"/>).</summary>
    public static void Advise(byte* start, long length)
    {
        if (!OperatingSystem.IsLinux() || length < 2 * HugePageSize)
        {
            return;
        }

        long first = ((long)start + HugePageSize - 1) & ~(HugePageSize - 1);
        long end = ((long)start + length) & ~(HugePageSize - 1);
        if (end > first)
        {
            // The result is ignored on purpose: huge pages are an optimisation, never a requirement.
            _ = Madvise((void*)first, (nuint)(end - first), MadviseHugePage);
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
