namespace Flover.Gpu.Checkpoints;

/// <summary>
/// Turns a <c>--model</c> argument into a folder: an existing directory is taken as it is;
/// otherwise the name is looked up in the local Hugging Face cache, never on the network.
/// </summary>
/// <remarks>
/// The cache is <c>$HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>, else <c>~/.cache/huggingface/hub</c>.
/// A model <c>ORG/NAME</c> lives in <c>models--ORG--NAME/snapshots/REV/</c>; the revision is the one
/// <c>refs/main</c> names, else the only snapshot, else the most recently written one.
/// </remarks>
public static class ModelLocator
{
    /// <summary>Resolves <paramref name="model"/> to an existing folder.</summary>
    /// <param name="model">A directory path, or a Hugging Face model id such as <c>gpt2</c> or <c>openai-community/gpt2</c>.</param>
    /// <param name="environment">Reads environment variables; <see cref="Environment.GetEnvironmentVariable(string)"/> when null.</param>
    /// <exception cref="FloverException">Neither a folder nor a cached model.</exception>
    public static string Resolve(string model, Func<string, string?>? environment = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        if (Directory.Exists(model))
        {
            return Path.GetFullPath(model);
        }

        environment ??= Environment.GetEnvironmentVariable;
        string cache = HubCacheDirectory(environment);
        string repository = Path.Combine(cache, "models--" + model.Replace("/", "--", StringComparison.Ordinal));
        string snapshots = Path.Combine(repository, "snapshots");
        if (!Directory.Exists(snapshots))
        {
            throw new FloverException(
                $"Model '{model}' is neither a folder nor in the local Hugging Face cache (looked for {repository}). Flover never downloads: put the model there with the Hugging Face CLI, or pass a folder.");
        }

        string refFile = Path.Combine(repository, "refs", "main");
        if (File.Exists(refFile))
        {
            string revision = File.ReadAllText(refFile).Trim();
            string pinned = Path.Combine(snapshots, revision);
            if (revision.Length > 0 && Directory.Exists(pinned))
            {
                return pinned;
            }
        }

        DirectoryInfo? newest = new DirectoryInfo(snapshots).GetDirectories()
            .OrderByDescending(d => d.LastWriteTimeUtc)
            .ThenBy(d => d.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        return newest?.FullName
            ?? throw new FloverException($"Model '{model}' is in the Hugging Face cache ({repository}) but has no snapshot.");
    }

    /// <summary>The Hugging Face hub cache folder the environment points at.</summary>
    public static string HubCacheDirectory(Func<string, string?> environment)
    {
        string? hubCache = environment("HF_HUB_CACHE");
        if (!string.IsNullOrEmpty(hubCache))
        {
            return hubCache;
        }

        string? home = environment("HF_HOME");
        if (!string.IsNullOrEmpty(home))
        {
            return Path.Combine(home, "hub");
        }

        string userHome = environment("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(userHome, ".cache", "huggingface", "hub");
    }
}
