using Flover.Gpu.Models;

namespace Flover.Host.Tests.Http;

/// <summary>
/// Wraps a model so a test can hold the decode loop inside Decode and let it through one call at
/// a time (a barrier, not a sleep). Open by default.
/// </summary>
internal sealed class StepGate(IModel inner) : IModel
{
    private readonly SemaphoreSlim _tickets = new(0);
    private volatile bool _held;

    /// <summary>Signalled each time a Decode call waits at the held gate.</summary>
    public SemaphoreSlim Waiting { get; } = new(0);

    public int VocabularySize => inner.VocabularySize;

    public int SlotCount => inner.SlotCount;

    public int SlotCapacity => inner.SlotCapacity;

    public long KvBytesPerSlot => inner.KvBytesPerSlot;

    /// <summary>From now on each Decode waits for a <see cref="Step"/>.</summary>
    public void Hold() => _held = true;

    /// <summary>Lets one waiting (or the next) Decode through.</summary>
    public void Step() => _tickets.Release();

    /// <summary>Opens the gate for good (and lets a waiting Decode through).</summary>
    public void Open()
    {
        _held = false;
        _tickets.Release();
    }

    public ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts) => inner.Prefill(prompts);

    public ModelLogits Decode(ReadOnlySpan<DecodeRow> rows)
    {
        if (_held)
        {
            Waiting.Release();
            _tickets.Wait();
        }

        return inner.Decode(rows);
    }

    public void Copy(int fromSlot, int toSlot, int length) => inner.Copy(fromSlot, toSlot, length);


    public void Release(int slot) => inner.Release(slot);

    public void Dispose()
    {
        // The host disposes the model it owns; the gate owns nothing.
    }
}
