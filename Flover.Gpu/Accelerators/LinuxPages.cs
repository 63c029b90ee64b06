using System.Runtime.InteropServices;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// Anonymous memory straight from the Linux kernel, for host buffers whose memory should follow
/// use: a mapping holds no physical memory until a page is first written (reads of an untouched
/// page see the shared zero page), <see cref="Decommit"/> hands written pages back, and
/// <see cref="ResidentBytes"/> says how much is held. Other systems get no mapping (callers fall
/// back to ordinary, wholly committed memory).
/// </summary>
internal static unsafe partial class LinuxPages
{
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapPrivate = 2;
    private const int MapAnonymous = 0x20;
    private const int AdviseDontNeed = 4;
    private const int AdviseHugePage = 14;
    private const int AdviseNoHugePage = 15;

    /// <summary>Whether this process can map on-demand memory (Linux only).</summary>
    public static bool Supported => OperatingSystem.IsLinux();

    /// <summary>
    /// Maps <paramref name="bytes"/> of zeroed, not yet committed memory, aligned to a page; with
    /// <paramref name="smallPages"/>, never backed by transparent huge pages.
    /// </summary>
    /// <exception cref="OutOfMemoryException">The kernel refused the mapping (address space or overcommit limit).</exception>
    public static void* Map(nuint bytes, bool smallPages)
    {
        void* address = Mmap(null, bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (address == (void*)-1)
        {
            throw new OutOfMemoryException($"mmap of {bytes} bytes failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        if (smallPages)
        {
            // Transparent huge pages (where the system's policy is "always") would commit 2 MiB at the
            // first write into each 2 MiB; small pages keep what is held close to what is written.
            _ = Madvise(address, bytes, AdviseNoHugePage);
        }

        return address;
    }

    /// <summary>Unmaps a mapping made by <see cref="Map"/>.</summary>
    public static void Unmap(void* address, nuint bytes) => _ = Munmap(address, bytes);

    /// <summary>
    /// Returns the whole pages inside [<paramref name="start"/>, +<paramref name="bytes"/>) to the
    /// kernel; they read as zero afterwards and are committed again when written. The partial pages at
    /// either end keep their contents.
    /// </summary>
    public static void Decommit(byte* start, long bytes)
    {
        (long first, long end) = WholePages(start, bytes, Environment.SystemPageSize);
        if (end > first)
        {
            // Advice on a private anonymous mapping always succeeds; a failure would only leave memory committed.
            _ = Madvise((void*)first, (nuint)(end - first), AdviseDontNeed);
        }
    }

    /// <summary>Bytes of [<paramref name="start"/>, +<paramref name="bytes"/>) held in memory now, counted in whole pages.</summary>
    public static long ResidentBytes(byte* start, long bytes)
    {
        int page = Environment.SystemPageSize;
        long first = (long)start & ~(long)(page - 1);
        long pages = ((long)start + bytes - first + page - 1) / page;
        long resident = 0;
        byte[] vector = new byte[Math.Min(pages, 1L << 20)];
        for (long done = 0; done < pages; done += vector.Length)
        {
            long count = Math.Min(vector.Length, pages - done);
            fixed (byte* v = vector)
            {
                if (Mincore((void*)(first + (done * page)), (nuint)(count * page), v) != 0)
                {
                    throw new InvalidOperationException($"mincore failed (errno {Marshal.GetLastPInvokeError()}).");
                }
            }

            for (long i = 0; i < count; i++)
            {
                resident += vector[i] & 1;
            }
        }

        return resident * page;
    }

    /// <summary>Advises transparent huge pages for the whole 2 MiB pages inside the range (advice only: a refusal just keeps small pages).</summary>
    public static void AdviseHugePages(byte* start, long bytes)
    {
        (long first, long end) = WholePages(start, bytes, 2 << 20);
        if (end > first)
        {
            _ = Madvise((void*)first, (nuint)(end - first), AdviseHugePage);
        }
    }

    private static (long First, long End) WholePages(byte* start, long bytes, long pageSize) =>
        (((long)start + pageSize - 1) & ~(pageSize - 1), ((long)start + bytes) & ~(pageSize - 1));

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static partial int Mincore(void* address, nuint length, byte* vector);
}
