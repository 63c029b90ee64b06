using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.Gpu.Tests.Models;

/// <summary>Small random GPT-2 weights for fast tests (2 layers, 4 heads, 32 embd, vocab 300 by default).</summary>
internal static class TinyGpt2
{
    public static Gpt2Config Config(Gpt2Activation activation = Gpt2Activation.GeluTanh, int embedding = 32, int heads = 4, int layers = 2, int vocabulary = 300, int positions = 64) =>
        new(layers, heads, embedding, positions, 4 * embedding, vocabulary, 1e-5f, activation, 0, vocabulary - 1);

    /// <summary>Random weights: N(0, 0.3²)-ish matrices and embeddings, norm gains near 1, small biases.</summary>
    public static NativeModelWeights Weights(Gpt2Config config, TensorDType dtype = TensorDType.F32, int seed = 1, bool separateHead = false)
    {
        var random = new Random(seed);
        var weights = new NativeModelWeights(config, $"tiny test model (seed {seed})");
        int e = config.EmbeddingSize;
        Add(weights, random, Gpt2TensorNames.TokenEmbedding, dtype, 0.3f, 0f, config.VocabularySize, e);
        Add(weights, random, Gpt2TensorNames.PositionEmbedding, dtype, 0.1f, 0f, config.MaxPositions, e);
        Add(weights, random, Gpt2TensorNames.FinalNormWeight, dtype, 0.1f, 1f, e);
        Add(weights, random, Gpt2TensorNames.FinalNormBias, dtype, 0.1f, 0f, e);
        if (separateHead)
        {
            Add(weights, random, Gpt2TensorNames.LmHead, dtype, 0.3f, 0f, config.VocabularySize, e);
        }

        for (int layer = 0; layer < config.LayerCount; layer++)
        {
            Add(weights, random, Gpt2TensorNames.Norm1Weight(layer), dtype, 0.1f, 1f, e);
            Add(weights, random, Gpt2TensorNames.Norm1Bias(layer), dtype, 0.1f, 0f, e);
            Add(weights, random, Gpt2TensorNames.AttentionQkvWeight(layer), dtype, 0.3f, 0f, e, 3 * e);
            Add(weights, random, Gpt2TensorNames.AttentionQkvBias(layer), dtype, 0.1f, 0f, 3 * e);
            Add(weights, random, Gpt2TensorNames.AttentionOutWeight(layer), dtype, 0.2f, 0f, e, e);
            Add(weights, random, Gpt2TensorNames.AttentionOutBias(layer), dtype, 0.1f, 0f, e);
            Add(weights, random, Gpt2TensorNames.Norm2Weight(layer), dtype, 0.1f, 1f, e);
            Add(weights, random, Gpt2TensorNames.Norm2Bias(layer), dtype, 0.1f, 0f, e);
            Add(weights, random, Gpt2TensorNames.MlpUpWeight(layer), dtype, 0.3f, 0f, e, config.InnerSize);
            Add(weights, random, Gpt2TensorNames.MlpUpBias(layer), dtype, 0.1f, 0f, config.InnerSize);
            Add(weights, random, Gpt2TensorNames.MlpDownWeight(layer), dtype, 0.1f, 0f, config.InnerSize, e);
            Add(weights, random, Gpt2TensorNames.MlpDownBias(layer), dtype, 0.1f, 0f, e);
        }

        return weights;
    }

    private static void Add(NativeModelWeights weights, Random random, string name, TensorDType dtype, float scale, float offset, params long[] shape)
    {
        long count = 1;
        foreach (long dim in shape)
        {
            count *= dim;
        }

        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = offset + (scale * (float)((random.NextDouble() * 2) - 1) * 1.7f);
        }

        weights.Add(name, dtype, values, shape);
    }
}
