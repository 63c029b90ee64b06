using System.Security.Cryptography;
using System.Text;
using Flover.Actors.Hosting;
using Flover.Configuration;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;

namespace Flover.Actors.Cluster;

/// <summary>The <see cref="WorkerFingerprint"/> of an engine a node starts from its settings.</summary>
internal static class WorkerFingerprints
{
    /// <summary>
    /// What an engine serving <paramref name="model"/> as <paramref name="modelId"/> with
    /// <paramref name="settings"/> on <paramref name="device"/> runs. The weights' hash is of the
    /// folder's config.json and the names and sizes of its weight files (reading gigabytes of weights
    /// at every start is not worth it; equal files in equal folders are the deployment's promise), or
    /// of the preset's name (a preset's random weights are fixed by it, the seed being the default; a
    /// GPU generates them in device memory bit for bit as the host does). The device's kind counts, not
    /// its number: two GPUs of a kind run the same kernels. The GEMM mode (<c>flover.engine.batch-invariant</c>)
    /// is carried too: a worker whose matmuls are not batch invariant cannot take or give a failover.
    /// </summary>
    public static WorkerFingerprint For(string modelId, FloverModel model, FloverSettings settings, DeviceSpec device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(device);
        string hash = model.Folder is { } folder ? FolderHash(ModelLocator.Resolve(folder)) : $"preset:{model.Preset}";
        string kind = device.Kind == AcceleratorKind.Cuda ? "cuda" : device.ToString();
        // flover.engine.batch-invariant = off (cuBLAS) rules out exact failover to and from this worker.
        return new WorkerFingerprint(modelId, hash, settings.Engine.WeightDType, settings.Engine.KvDType, kind, settings.Parallel.Tensor, settings.Engine.BatchInvariant);
    }

    private static string FolderHash(string folder)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        string config = Path.Combine(folder, "config.json");
        if (File.Exists(config))
        {
            sha.AppendData(File.ReadAllBytes(config));
        }

        foreach (FileInfo file in new DirectoryInfo(folder).EnumerateFiles().Where(f => f.Extension is ".safetensors" or ".bin").OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"{file.Name}:{file.Length};"));
        }

        return "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }
}
