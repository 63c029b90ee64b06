using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Models.Gpt2;

/// <summary>
/// Activation buffers for one forward pass of up to <see cref="ModelWorkspace.Rows"/> rows, allocated once at start-up
/// so a step allocates nothing.
/// </summary>
internal sealed class Gpt2Workspace : ModelWorkspace
{
    /// <param name="accelerator">Where the buffers live.</param>
    /// <param name="config">The model.</param>
    /// <param name="rows">Rows per pass.</param>
    /// <param name="shards">Tensor-parallel shards the model is split over (1: whole); this one holds 1/shards of the heads and MLP columns.</param>
    /// <param name="localVocabulary">Vocabulary rows of this shard's LM head.</param>
    public Gpt2Workspace(Accelerator accelerator, Gpt2Config config, int rows, int shards, int localVocabulary)
        : base(accelerator, rows)
    {
        int e = config.EmbeddingSize;
        Residual = Floats(accelerator, (long)rows * e);
        Normed = Floats(accelerator, (long)rows * e);
        Qkv = Floats(accelerator, (long)rows * 3 * e / shards);
        Attention = Floats(accelerator, (long)rows * e);
        Mlp = Floats(accelerator, (long)rows * ((config.InnerSize + shards - 1) / shards));
        Logits = Floats(accelerator, (long)rows * config.VocabularySize);
        if (shards > 1)
        {
            Partial = Floats(accelerator, (long)rows * e);
            LocalLogits = Floats(accelerator, (long)rows * localVocabulary);
        }
    }

    /// <summary>The residual stream x.</summary>
    public ArrayView<float> Residual { get; }

    /// <summary>Layer-norm output (the input of each projection).</summary>
    public ArrayView<float> Normed { get; }

    /// <summary>Fused [q | k | v] rows.</summary>
    public ArrayView<float> Qkv { get; }

    /// <summary>Attention output; also holds the final-norm rows before the LM head.</summary>
    public ArrayView<float> Attention { get; }

    /// <summary>MLP hidden rows after the activation.</summary>
    public ArrayView<float> Mlp { get; }

    /// <summary>LM-head output rows (gathered from every shard's slice when split).</summary>
    public ArrayView<float> Logits { get; }

    /// <summary>A split projection's partial sums before the all-reduce (tensor parallelism only).</summary>
    public ArrayView<float> Partial { get; }

    /// <summary>This shard's vocabulary columns of the logits (tensor parallelism only).</summary>
    public ArrayView<float> LocalLogits { get; }
}
