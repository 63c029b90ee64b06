using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Tests.Checkpoints;

public sealed class ModelLocatorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("flover-locator-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void An_existing_folder_is_returned_as_its_full_path()
    {
        Assert.Equal(_root, ModelLocator.Resolve(_root, _ => null));
    }

    [Fact]
    public void A_cached_model_resolves_to_the_snapshot_refs_main_names()
    {
        string repo = Path.Combine(_root, "hub", "models--openai-community--gpt2");
        Directory.CreateDirectory(Path.Combine(repo, "snapshots", "aaa"));
        Directory.CreateDirectory(Path.Combine(repo, "snapshots", "bbb"));
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", "main"), "aaa\n");

        string resolved = ModelLocator.Resolve("openai-community/gpt2", Env(("HF_HOME", _root)));

        Assert.Equal(Path.Combine(repo, "snapshots", "aaa"), resolved);
    }

    [Fact]
    public void HF_HUB_CACHE_wins_over_HF_HOME_and_a_lone_snapshot_is_used_without_refs()
    {
        string hub = Path.Combine(_root, "elsewhere");
        string snapshot = Path.Combine(hub, "models--gpt2", "snapshots", "rev1");
        Directory.CreateDirectory(snapshot);

        string resolved = ModelLocator.Resolve("gpt2", Env(("HF_HUB_CACHE", hub), ("HF_HOME", _root)));

        Assert.Equal(snapshot, resolved);
    }

    [Fact]
    public void The_home_cache_is_used_when_no_variable_is_set()
    {
        Assert.Equal(Path.Combine(_root, ".cache", "huggingface", "hub"), ModelLocator.HubCacheDirectory(Env(("HOME", _root))));
    }

    [Fact]
    public void A_name_that_is_neither_folder_nor_cached_fails_naming_where_it_looked()
    {
        var error = Assert.Throws<FloverException>(() => ModelLocator.Resolve("org/missing", Env(("HF_HOME", _root))));

        Assert.Contains("'org/missing'", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_root, "hub", "models--org--missing"), error.Message, StringComparison.Ordinal);
        Assert.Contains("never downloads", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cached_model_without_snapshots_fails_clearly()
    {
        Directory.CreateDirectory(Path.Combine(_root, "hub", "models--gpt2", "snapshots"));

        var error = Assert.Throws<FloverException>(() => ModelLocator.Resolve("gpt2", Env(("HF_HOME", _root))));

        Assert.Contains("has no snapshot", error.Message, StringComparison.Ordinal);
    }

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;
}
