namespace Flover.Gpu.Models;

/// <summary>
/// The hyper-parameters of a GPT-2 model, as read from a Hugging Face <c>config.json</c>
/// (<c>n_layer</c>, <c>n_head</c>, <c>n_embd</c>, ...) or given by a preset.
/// </summary>
/// <param name="LayerCount">Number of transformer blocks (<c>n_layer</c>).</param>
/// <param name="HeadCount">Attention heads per block (<c>n_head</c>); divides <paramref name="EmbeddingSize"/>.</param>
/// <param name="EmbeddingSize">Width of the residual stream (<c>n_embd</c>).</param>
/// <param name="MaxPositions">Learned position embeddings, the longest sequence (<c>n_positions</c>).</param>
/// <param name="InnerSize">Width of the MLP hidden layer (<c>n_inner</c>; 4 × <c>n_embd</c> when null in the file).</param>
/// <param name="VocabularySize">Rows of the token embedding (<c>vocab_size</c>).</param>
/// <param name="LayerNormEpsilon">Epsilon added to the variance in every layer norm (<c>layer_norm_epsilon</c>).</param>
/// <param name="Activation">The MLP activation (<c>activation_function</c>).</param>
/// <param name="BosTokenId">Beginning-of-sequence id (<c>bos_token_id</c>).</param>
/// <param name="EosTokenId">End-of-sequence id (<c>eos_token_id</c>).</param>
public sealed record Gpt2Config(
    int LayerCount,
    int HeadCount,
    int EmbeddingSize,
    int MaxPositions,
    int InnerSize,
    int VocabularySize,
    float LayerNormEpsilon,
    Gpt2Activation Activation,
    int BosTokenId,
    int EosTokenId)
{
    /// <summary>Width of one attention head: <see cref="EmbeddingSize"/> / <see cref="HeadCount"/>.</summary>
    public int HeadSize => EmbeddingSize / HeadCount;

    /// <summary>Bytes of one KV-cache slot of <paramref name="slotCapacity"/> positions (keys and values of every layer, of <paramref name="elementType"/>), whatever its layout or split.</summary>
    public long KvBytesPerSlot(int slotCapacity, Checkpoints.TensorDType elementType = Checkpoints.TensorDType.F32) =>
        new Memory.KvCacheLayout(1, LayerCount, HeadCount, slotCapacity, HeadSize) { ElementType = elementType }.ByteCount;

    /// <summary>Refuses a tensor-parallel split whose shard count does not divide the heads (each shard holds whole heads).</summary>
    /// <param name="shardCount">Shards the model is to be split over.</param>
    /// <param name="source">The checkpoint or preset, as messages name it.</param>
    /// <exception cref="FloverException">Fewer than one shard, or the heads do not divide evenly.</exception>
    public void CheckShardCount(int shardCount, string source)
    {
        if (shardCount <= 0 || HeadCount % shardCount != 0)
        {
            throw new FloverException($"{source}: {HeadCount} attention heads cannot be split evenly over {shardCount} tensor-parallel shards; use a shard count that divides {HeadCount}.");
        }
    }
}

/// <summary>The MLP activations GPT-2 checkpoints name in <c>activation_function</c>.</summary>
public enum Gpt2Activation
{
    /// <summary><c>gelu_new</c> (and <c>gelu_pytorch_tanh</c>): the tanh approximation GPT-2 was trained with.</summary>
    GeluTanh,

    /// <summary><c>gelu</c>: the exact erf form.</summary>
    GeluExact,

    /// <summary><c>relu</c>.</summary>
    Relu,
}
