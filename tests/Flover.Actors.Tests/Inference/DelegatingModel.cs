using Flover.Gpu.Models;

namespace Flover.Actors.Tests.Inference;

/// <summary>A model that passes every call to <see cref="Inner"/>; a test's wrapper overrides only the calls it watches, breaks or holds.</summary>
internal abstract class DelegatingModel(IModel inner) : IModel
{
    public int VocabularySize => Inner.VocabularySize;

    public int SlotCount => Inner.SlotCount;

    public int SlotCapacity => Inner.SlotCapacity;

    public long KvBytesPerSlot => Inner.KvBytesPerSlot;

    /// <summary>The wrapped model.</summary>
    protected IModel Inner { get; } = inner;

    public virtual ModelLogits Prefill(IReadOnlyList<PrefillPrompt> prompts) => Inner.Prefill(prompts);

    public virtual ModelLogits Decode(ReadOnlySpan<DecodeRow> rows) => Inner.Decode(rows);

    public virtual void Copy(int fromSlot, int toSlot, int length) => Inner.Copy(fromSlot, toSlot, length);

    public virtual void Release(int slot) => Inner.Release(slot);

    /// <summary>Leaves the wrapped model to its owner (the fixture); wrappers that own it override this.</summary>
    public virtual void Dispose()
    {
    }
}
