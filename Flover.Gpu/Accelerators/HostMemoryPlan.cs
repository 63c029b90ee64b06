using Flover.Gpu.Accelerators.Ilgpu;
using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;
using Flover.Gpu.Models;
using Flover.Gpu.Models.Gpt2;
using Flover.Gpu.Models.Llama;

namespace Flover.Gpu.Accelerators;

/// <summary>
/// Whether a model on the CPU engine fits this machine's memory before anything is allocated: the
/// weights, the whole KV pool and the workspace against the memory available now (Linux's
/// MemAvailable, else what the runtime may use), so a pool far larger than RAM is one line at
/// start-up instead of an OutOfMemoryException, or a process the kernel kills later.
/// </summary>
public static class HostMemoryPlan
{
    /// <summary>Throws when the model of <paramref name="weights"/> with <paramref name="options"/> needs more memory than is available.</summary>
    /// <exception cref="FloverException">It does not fit: one line with the bytes of each part, what is available, and the settings to lower.</exception>
    public static void Check(IModelWeights weights, Gpt2ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        Check(DeviceMemoryPlan.Estimate(weights, options), options.SlotCount, AvailableBytes());
    }

    /// <summary>Throws when the LLaMA model of <paramref name="weights"/> with <paramref name="options"/> needs more memory than is available.</summary>
    /// <exception cref="FloverException">It does not fit: one line with the bytes of each part, what is available, and the settings to lower.</exception>
    public static void Check(LlamaWeights weights, LlamaModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        Check(DeviceMemoryPlan.Estimate(weights, options), options.SlotCount, AvailableBytes());
    }

    /// <summary>Throws unless the parts of <paramref name="estimate"/> fit in <paramref name="available"/> bytes.</summary>
    internal static void Check((long Weights, long Kv, long Workspace) estimate, int slotCount, long available)
    {
        (long weightBytes, long kvBytes, long workspaceBytes) = estimate;
        long needed = weightBytes + kvBytes + workspaceBytes;
        if (needed > available)
        {
            throw new FloverException(
                $"the model does not fit in memory: weights {Mib(weightBytes)} + KV pool {Mib(kvBytes)} ({Slots(slotCount)}; flover.engine.kv-slots) + workspace {Mib(workspaceBytes)} = {Mib(needed)} needed, {Mib(available)} available. Lower flover.engine.kv-slots or flover.engine.max-positions, or use 16-bit weights (flover.engine.weight-dtype) or a 16-bit KV cache (flover.engine.kv-dtype).");
        }
    }

    /// <summary>
    /// Throws when preset <paramref name="preset"/> with <paramref name="options"/> cannot load here:
    /// checked before its weights are generated, counting the generated F32 copy, which exists beside
    /// the engine's own until loading ends.
    /// </summary>
    /// <exception cref="FloverException">It does not fit: one line with the bytes of each part, what is available, and the settings to lower.</exception>
    public static void CheckPreset(string preset, Gpt2ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        (long weightBytes, long kvBytes, long workspaceBytes) = DeviceMemoryPlan.EstimatePreset(preset, options);
        long generated = Gpt2Presets.GeneratedBytes(Gpt2Presets.ConfigOf(preset), TensorDType.F32);
        long needed = generated + weightBytes + kvBytes + workspaceBytes;
        long available = AvailableBytes();
        if (needed > available)
        {
            throw new FloverException(
                $"preset '{preset}' does not fit in memory: generated weights {Mib(generated)} + weights {Mib(weightBytes)} + KV pool {Mib(kvBytes)} ({Slots(options.SlotCount)}; flover.engine.kv-slots) + workspace {Mib(workspaceBytes)} = {Mib(needed)} needed, {Mib(available)} available. Use a smaller preset, or lower flover.engine.kv-slots or flover.engine.max-positions, or use a 16-bit KV cache (flover.engine.kv-dtype).");
        }
    }

    /// <summary>Memory available to the process now: MemAvailable from /proc/meminfo on Linux, else the runtime's total available memory.</summary>
    public static long AvailableBytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // Not Linux, or /proc is not mounted: the runtime's figure below.
        }
        catch (UnauthorizedAccessException)
        {
        }

        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    private static string Slots(int count) => count == 1 ? "1 slot" : $"{count} slots";

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024):N0} MiB";
}
