using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models;

/// <summary>
/// The tensors a GPT-2 model of a given <see cref="Gpt2Config"/> consists of, by canonical name
/// (<see cref="Gpt2TensorNames"/>), with their shapes: the single source of truth the checkpoint
/// loader validates against and the presets generate from.
/// </summary>
public static class Gpt2TensorShapes
{
    /// <summary>
    /// Every required tensor and its shape, embeddings first, then block by block, then the final
    /// norm. <see cref="Gpt2TensorNames.LmHead"/> is not listed: it is optional (tied to the token
    /// embedding) and, when present, shaped like it.
    /// </summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Required(Gpt2Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        long vocab = config.VocabularySize;
        long embd = config.EmbeddingSize;
        long inner = config.InnerSize;
        var tensors = new List<(string, long[])>(4 + (12 * config.LayerCount))
        {
            (Gpt2TensorNames.TokenEmbedding, [vocab, embd]),
            (Gpt2TensorNames.PositionEmbedding, [config.MaxPositions, embd]),
        };

        for (int layer = 0; layer < config.LayerCount; layer++)
        {
            // Conv1D weights are [in, out], as Hugging Face stores them.
            tensors.Add((Gpt2TensorNames.Norm1Weight(layer), [embd]));
            tensors.Add((Gpt2TensorNames.Norm1Bias(layer), [embd]));
            tensors.Add((Gpt2TensorNames.AttentionQkvWeight(layer), [embd, 3 * embd]));
            tensors.Add((Gpt2TensorNames.AttentionQkvBias(layer), [3 * embd]));
            tensors.Add((Gpt2TensorNames.AttentionOutWeight(layer), [embd, embd]));
            tensors.Add((Gpt2TensorNames.AttentionOutBias(layer), [embd]));
            tensors.Add((Gpt2TensorNames.Norm2Weight(layer), [embd]));
            tensors.Add((Gpt2TensorNames.Norm2Bias(layer), [embd]));
            tensors.Add((Gpt2TensorNames.MlpUpWeight(layer), [embd, inner]));
            tensors.Add((Gpt2TensorNames.MlpUpBias(layer), [inner]));
            tensors.Add((Gpt2TensorNames.MlpDownWeight(layer), [inner, embd]));
            tensors.Add((Gpt2TensorNames.MlpDownBias(layer), [embd]));
        }

        tensors.Add((Gpt2TensorNames.FinalNormWeight, [embd]));
        tensors.Add((Gpt2TensorNames.FinalNormBias, [embd]));
        return tensors;
    }

    /// <summary>The shape of <see cref="Gpt2TensorNames.LmHead"/> when a checkpoint stores it: [vocab, embd].</summary>
    public static long[] LmHead(Gpt2Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return [config.VocabularySize, config.EmbeddingSize];
    }

    /// <summary>
    /// Number of parameters with a tied output projection (124 439 808 for GPT-2, 354 823 168 for
    /// GPT-2 medium); an untied <c>lm_head</c> adds vocab × embd.
    /// </summary>
    public static long ParameterCount(Gpt2Config config)
    {
        long total = 0;
        foreach ((_, long[] shape) in Required(config))
        {
            long elements = 1;
            foreach (long dim in shape)
            {
                elements *= dim;
            }

            total += elements;
        }

        return total;
    }
}
