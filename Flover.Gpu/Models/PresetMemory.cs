using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models;

/// <summary>The check every preset makes before it generates a byte: its weights must fit in the memory available.</summary>
internal static class PresetMemory
{
    /// <summary>Throws unless <paramref name="bytes"/> of preset <paramref name="name"/>'s <paramref name="dtype"/> weights fit in <paramref name="availableBytes"/>.</summary>
    /// <exception cref="FloverException">They do not: one line with the bytes needed and available.</exception>
    public static void CheckFits(string name, TensorDType dtype, long bytes, long availableBytes)
    {
        if (bytes > availableBytes)
        {
            throw new FloverException($"preset '{name}' needs {Gib(bytes)} of memory for its {dtype} weights, {Gib(availableBytes)} available: use a smaller preset.");
        }
    }

    private static string Gib(long bytes) => $"{bytes / (1024.0 * 1024 * 1024):N1} GiB";
}
