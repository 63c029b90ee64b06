using System.Runtime.InteropServices;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// Zeroed, 64-byte aligned native memory for weights, packed matrices and buffers. On Linux, blocks
/// of a mebibyte or more are mappings of their own: glibc serves a block of a size it has seen freed
/// from its heap (its mmap threshold rises to the largest freed block), and heap memory is not given
/// back to the system, so a model's temporary copies (a preset's generated tensors, a checkpoint's
/// slices, released after loading) could stay resident for the life of the process. A mapping goes
/// back the moment it is freed, and the kernel hands out its pages zeroed.
/// </summary>
internal static unsafe class HostMemory
{
    private const long MapThreshold = 1 << 20;

    /// <summary>Allocates <paramref name="bytes"/> zeroed bytes, 64-byte aligned (free with <see cref="Free"/> and the same size).</summary>
    /// <exception cref="OutOfMemoryException">The system has no memory for it.</exception>
    public static void* Allocate(long bytes)
    {
        nuint size = (nuint)Math.Max(bytes, 1);
        if (Mapped(bytes))
        {
            return LinuxPages.Map(size, smallPages: false);
        }

        // 64-byte alignment: a Vector512 load at the start of a block never splits a cache line.
        void* block = NativeMemory.AlignedAlloc(size, 64);
        NativeMemory.Clear(block, size);
        return block;
    }

    /// <summary>Frees a block from <see cref="Allocate"/> of <paramref name="bytes"/> bytes.</summary>
    public static void Free(void* block, long bytes)
    {
        if (Mapped(bytes))
        {
            LinuxPages.Unmap(block, (nuint)Math.Max(bytes, 1));
        }
        else
        {
            NativeMemory.AlignedFree(block);
        }
    }

    private static bool Mapped(long bytes) => bytes >= MapThreshold && LinuxPages.Supported;
}
