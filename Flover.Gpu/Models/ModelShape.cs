namespace Flover.Gpu.Models;

/// <summary>
/// What a scheduler must know of a model to plan for it, without holding it (the model lives in
/// shard actors, possibly on other nodes): the logits width and the KV pool.
/// </summary>
/// <param name="VocabularySize">Number of token ids (the width of a logits row).</param>
/// <param name="SlotCount">KV slots in the pool.</param>
/// <param name="SlotCapacity">Positions one slot holds.</param>
/// <param name="KvBytesPerSlot">Bytes of KV cache one slot holds.</param>
public sealed record ModelShape(int VocabularySize, int SlotCount, int SlotCapacity, long KvBytesPerSlot)
{
    /// <summary>The shape of <paramref name="model"/>.</summary>
    public static ModelShape Of(IModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new ModelShape(model.VocabularySize, model.SlotCount, model.SlotCapacity, model.KvBytesPerSlot);
    }

    /// <summary>The same model with <paramref name="slots"/> KV slots.</summary>
    public ModelShape WithSlots(int slots) => this with { SlotCount = slots };
}
