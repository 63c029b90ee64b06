namespace Flover.Gpu.Checkpoints;

/// <summary>
/// The checkpoint an engine's shards load from, whatever the model family: open while they load,
/// released once they have (<see cref="Release"/>), reopened when a replaced shard loads, closed for
/// good on dispose. What a host holds for the engine's life without knowing the family.
/// </summary>
public interface IEngineCheckpoint : IDisposable
{
    /// <summary>Where the weights come from (a folder, a preset name).</summary>
    string Source { get; }

    /// <summary>Closes the checkpoint as soon as no model is loading from it; later loads reopen it.</summary>
    void Release();
}
