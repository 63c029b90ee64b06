namespace Flover.Gpu.Models.Llama;

/// <summary>
/// What one tensor-parallel shard of a LLaMA model holds. Query heads split evenly; key/value heads
/// split evenly when there are at least as many as shards, and are replicated otherwise: shard r
/// holds the one key/value head its query heads read (grouped-query attention maps query head h to
/// key/value head h / (H / KvH)), so each shard still attends on its own, with no collective. MLP
/// columns and vocabulary rows split as evenly as they can.
/// </summary>
internal sealed record LlamaShardLayout
{
    private LlamaShardLayout(LlamaConfig config, int rank, int count)
    {
        int queryHeads = config.HeadCount / count;
        FirstQueryHead = rank * queryHeads;
        QueryHeads = queryHeads;
        KvHeads = Math.Max(1, config.KvHeadCount / count);
        // Replicated (fewer KV heads than shards): the head of this shard's first query head, whose
        // group holds all of its query heads because the shard count is a multiple of the KV heads.
        FirstKvHead = config.KvHeadCount >= count ? rank * KvHeads : FirstQueryHead / (config.HeadCount / config.KvHeadCount);
        (MlpStart, MlpCount) = TensorShard.Share(config.IntermediateSize, rank, count);
        (VocabularyStart, VocabularyCount) = TensorShard.Share(config.VocabularySize, rank, count);
        VocabularyOffsets = [.. Enumerable.Range(0, count + 1).Select(r => r == count ? config.VocabularySize : TensorShard.Share(config.VocabularySize, r, count).Start)];
    }

    public int FirstQueryHead { get; }

    public int QueryHeads { get; }

    public int FirstKvHead { get; }

    public int KvHeads { get; }

    public int MlpStart { get; }

    public int MlpCount { get; }

    public int VocabularyStart { get; }

    public int VocabularyCount { get; }

    /// <summary>Each rank's first vocabulary row, then the vocabulary size (for the gathered LM head).</summary>
    public int[] VocabularyOffsets { get; }

    /// <summary>The whole model: every head, column and row.</summary>
    public static LlamaShardLayout Whole(LlamaConfig config) => new(config, 0, 1);

    /// <summary>Rank <paramref name="rank"/> of <paramref name="count"/>, after <see cref="Check"/>.</summary>
    public static LlamaShardLayout Of(LlamaConfig config, int rank, int count)
    {
        Check(config, count, "the model");
        return new(config, rank, count);
    }

    /// <summary>Throws unless <paramref name="count"/> shards can split <paramref name="config"/>'s heads.</summary>
    /// <exception cref="FloverException">One line naming the head counts and what would divide them.</exception>
    public static void Check(LlamaConfig config, int count, string source)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (count <= 0 || config.HeadCount % count != 0)
        {
            throw new FloverException($"{source}: {config.HeadCount} attention heads cannot be split evenly over {count} tensor-parallel shards; use a shard count that divides {config.HeadCount}.");
        }

        bool split = config.KvHeadCount >= count ? config.KvHeadCount % count == 0 : count % config.KvHeadCount == 0;
        if (!split)
        {
            throw new FloverException($"{source}: {config.KvHeadCount} key/value heads can be neither split evenly over {count} tensor-parallel shards nor replicated across them; use a shard count that divides {config.KvHeadCount} or is a multiple of it.");
        }
    }
}
