using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models.Gpt2;

/// <summary>
/// Cuts GPT-2's tensors for one tensor-parallel shard (Megatron): <c>c_attn</c> by the columns of the
/// shard's heads in each of q, k and v (so its output is <c>[q | k | v]</c> of its heads, as the
/// attention kernel expects), attention <c>c_proj</c> by the matching rows, MLP <c>c_fc</c> by columns
/// and <c>c_proj</c> by rows, the LM head by vocabulary rows. Without a shard every tensor is whole.
/// </summary>
internal sealed class Gpt2WeightSplit(Gpt2Config config, TensorShard? shard, SliceMemory memory)
{
    private int HeadWidth => config.EmbeddingSize / (shard?.Count ?? 1);

    private int FirstHeadColumn => (shard?.Rank ?? 0) * HeadWidth;

    /// <summary><c>c_attn</c> weight [e, 3e] or bias [3e]: the shard's head columns of q, k and v.</summary>
    public TensorView HeadColumns(TensorView tensor)
    {
        if (shard is null)
        {
            return tensor;
        }

        int e = config.EmbeddingSize;
        return TensorSlicing.Columns(tensor, [(FirstHeadColumn, HeadWidth), (e + FirstHeadColumn, HeadWidth), ((2L * e) + FirstHeadColumn, HeadWidth)], memory);
    }

    /// <summary>Attention <c>c_proj</c> weight [e, e]: the rows that read the shard's heads.</summary>
    public TensorView HeadRows(TensorView tensor) => shard is null ? tensor : TensorSlicing.Rows(tensor, FirstHeadColumn, HeadWidth);

    /// <summary>MLP <c>c_fc</c> weight [e, inner] or bias [inner]: the shard's inner columns.</summary>
    public TensorView InnerColumns(TensorView tensor)
    {
        if (shard is null)
        {
            return tensor;
        }

        (int start, int count) = shard.Share(config.InnerSize);
        return TensorSlicing.Columns(tensor, [(start, count)], memory);
    }

    /// <summary>MLP <c>c_proj</c> weight [inner, e]: the rows of the shard's inner columns.</summary>
    public TensorView InnerRows(TensorView tensor)
    {
        if (shard is null)
        {
            return tensor;
        }

        (int start, int count) = shard.Share(config.InnerSize);
        return TensorSlicing.Rows(tensor, start, count);
    }

    /// <summary>LM head [vocab, e]: the shard's vocabulary rows.</summary>
    public TensorView VocabularyRows(TensorView tensor)
    {
        if (shard is null)
        {
            return tensor;
        }

        (int start, int count) = shard.Share(config.VocabularySize);
        return TensorSlicing.Rows(tensor, start, count);
    }
}
