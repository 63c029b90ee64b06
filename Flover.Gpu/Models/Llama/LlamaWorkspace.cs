using Flover.Gpu.Accelerators;

namespace Flover.Gpu.Models.Llama;

/// <summary>Activation buffers for one forward pass of up to <see cref="ModelWorkspace.Rows"/> rows, allocated once so a step allocates nothing.</summary>
internal sealed class LlamaWorkspace : ModelWorkspace
{
    public LlamaWorkspace(Accelerator accelerator, LlamaConfig config, LlamaShardLayout shard, int rows, bool sharded)
        : base(accelerator, rows)
    {
        long e = config.HiddenSize;
        long attention = (long)shard.QueryHeads * config.HeadSize;
        Residual = Floats(accelerator, rows * e);
        Normed = Floats(accelerator, rows * Math.Max(e, attention));
        Qkv = Floats(accelerator, (long)rows * (shard.QueryHeads + (2 * shard.KvHeads)) * config.HeadSize);
        Attention = Floats(accelerator, rows * Math.Max(e, attention));
        GateUp = Floats(accelerator, rows * 2L * shard.MlpCount);
        Mlp = Floats(accelerator, (long)rows * shard.MlpCount);
        Logits = Floats(accelerator, (long)rows * config.VocabularySize);
        if (sharded)
        {
            Partial = Floats(accelerator, rows * e);
            LocalLogits = Floats(accelerator, (long)rows * shard.VocabularyCount);
            ZeroBias = Floats(accelerator, e);
            accelerator.CopyFromCpu<float>(new float[e], ZeroBias);
        }
    }

    /// <summary>A shard's partial product of a row-parallel projection, before the all-reduce (shards only).</summary>
    public ArrayView<float> Partial { get; }

    /// <summary>A shard's logits over its vocabulary rows, before they are gathered (shards only).</summary>
    public ArrayView<float> LocalLogits { get; }

    /// <summary>Zeros of the hidden width: the bias a shard adds after a reduction when the model has none (shards only).</summary>
    public ArrayView<float> ZeroBias { get; }

    /// <summary>The residual stream.</summary>
    public ArrayView<float> Residual { get; }

    /// <summary>RMS-norm output (the input of each projection); also the gathered rows before the final norm.</summary>
    public ArrayView<float> Normed { get; }

    /// <summary>Fused [q | k | v] rows (query heads, then key/value heads).</summary>
    public ArrayView<float> Qkv { get; }

    /// <summary>Attention output (query heads × head size); also the final-norm rows before the LM head.</summary>
    public ArrayView<float> Attention { get; }

    /// <summary>Fused [gate | up] rows.</summary>
    public ArrayView<float> GateUp { get; }

    /// <summary>SwiGLU output rows.</summary>
    public ArrayView<float> Mlp { get; }

    public ArrayView<float> Logits { get; }
}
