namespace Flover.Gpu.Accelerators;

/// <summary>
/// Asks Linux to back large, not yet touched allocations with transparent huge pages (where the
/// system's policy is "madvise", the common default, nothing gets them unasked). Filling gigabytes
/// of fresh memory otherwise costs one page fault per 4 KiB, which takes longer than generating the
/// values; and a stream over 4 KiB pages (a decode step reading every weight) takes a TLB miss and
/// restarts the hardware prefetcher every 4 KiB. Advice only: a kernel that refuses it (or another
/// OS) just uses small pages.
/// </summary>
internal static unsafe class HugePages
{
    private const long HugePageSize = 2 << 20;

    /// <summary>Advises huge pages for the whole 2 MiB pages inside [<paramref name="start"/>, +<paramref name="length"/>).</summary>
    public static void Advise(byte* start, long length)
    {
        if (LinuxPages.Supported && length >= 2 * HugePageSize)
        {
            LinuxPages.AdviseHugePages(start, length);
        }
    }
}
