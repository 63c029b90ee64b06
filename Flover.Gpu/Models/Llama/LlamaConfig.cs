using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models.Llama;

/// <summary>
/// The hyper-parameters of a LLaMA model (Hugging Face <c>LlamaForCausalLM</c>), as read from its
/// <c>config.json</c> in either the transformers 4 or the transformers 5 form, or given by a preset.
/// </summary>
/// <param name="LayerCount">Decoder layers (<c>num_hidden_layers</c>).</param>
/// <param name="HiddenSize">Width of the residual stream (<c>hidden_size</c>).</param>
/// <param name="HeadCount">Query heads per layer (<c>num_attention_heads</c>).</param>
/// <param name="KvHeadCount">Key/value heads per layer (<c>num_key_value_heads</c>); divides <paramref name="HeadCount"/>.</param>
/// <param name="HeadSize">Width of one head (<c>head_dim</c>, or hidden size / heads when absent).</param>
/// <param name="IntermediateSize">Width of the SwiGLU hidden layer (<c>intermediate_size</c>).</param>
/// <param name="VocabularySize">Rows of the token embedding (<c>vocab_size</c>).</param>
/// <param name="MaxPositions">The longest sequence (<c>max_position_embeddings</c>).</param>
/// <param name="RmsNormEpsilon">Epsilon added to the mean square in every RMS norm (<c>rms_norm_eps</c>).</param>
/// <param name="Rope">The rotary embedding settings.</param>
/// <param name="TieWordEmbeddings">The LM head is the token embedding (<c>tie_word_embeddings</c>).</param>
/// <param name="AttentionBias">The q, k, v and o projections have biases (<c>attention_bias</c>).</param>
/// <param name="MlpBias">The gate, up and down projections have biases (<c>mlp_bias</c>).</param>
/// <param name="BosTokenId">Beginning-of-sequence id (<c>bos_token_id</c>), if any.</param>
/// <param name="EosTokenId">End-of-sequence id (<c>eos_token_id</c>; the first when the file lists several), if any.</param>
public sealed record LlamaConfig(
    int LayerCount,
    int HiddenSize,
    int HeadCount,
    int KvHeadCount,
    int HeadSize,
    int IntermediateSize,
    int VocabularySize,
    int MaxPositions,
    float RmsNormEpsilon,
    LlamaRope Rope,
    bool TieWordEmbeddings,
    bool AttentionBias,
    bool MlpBias,
    int? BosTokenId,
    int? EosTokenId)
{
    /// <summary>Width of the fused <c>[q | k | v]</c> projection: (heads + 2 × KV heads) × head size.</summary>
    public int QkvSize => (HeadCount + (2 * KvHeadCount)) * HeadSize;

    /// <summary>
    /// Throws unless <paramref name="shardCount"/> tensor-parallel shards can split this model: the
    /// query heads evenly, the key/value heads evenly or, when fewer than the shards, replicated
    /// (the shard count a multiple of them).
    /// </summary>
    /// <exception cref="FloverException">One line naming <paramref name="source"/>, the head counts and what would divide them.</exception>
    public void CheckShardCount(int shardCount, string source) => LlamaShardLayout.Check(this, shardCount, source);

    /// <summary>Bytes of one KV-cache slot of <paramref name="slotCapacity"/> positions (keys and values of every layer and KV head) in <paramref name="kvDType"/>.</summary>
    public long KvBytesPerSlot(int slotCapacity, TensorDType kvDType = TensorDType.F32) =>
        new Memory.KvCacheLayout(1, LayerCount, KvHeadCount, slotCapacity, HeadSize).SlotStride * kvDType.ByteSize();
}
