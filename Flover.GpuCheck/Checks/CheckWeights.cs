using Flover.Gpu.Checkpoints;
using Flover.Gpu.Models;

namespace Flover.GpuCheck.Checks;

/// <summary>
/// Small random GPT-2 checkpoints written in memory: odd widths (not multiples of a warp or of the
/// matmul's row group) and a small vocabulary, so ILGPU's CPU accelerator runs a step in milliseconds.
/// </summary>
internal static class CheckWeights
{
    /// <summary>3 layers, 3 heads of 7 (21 wide), vocabulary 97, 40 positions, GELU (tanh).</summary>
    public static Gpt2Config Config(int embedding = 21, int heads = 3, int layers = 3, int vocabulary = 97, int positions = 40, Gpt2Activation activation = Gpt2Activation.GeluTanh) =>
        new(layers, heads, embedding, positions, 4 * embedding, vocabulary, 1e-5f, activation, 0, vocabulary - 1);

    /// <summary>Uniform random weights around sensible centres (norm gains near 1), from a fixed seed; the head tied unless <paramref name="separateHead"/>.</summary>
    public static NativeModelWeights Create(Gpt2Config config, TensorDType dtype = TensorDType.F32, int seed = 7, bool separateHead = false)
    {
        var random = new Random(seed);
        var weights = new NativeModelWeights(config, $"check model (seed {seed})");
        int e = config.EmbeddingSize;
        Add(weights, random, Gpt2TensorNames.TokenEmbedding, dtype, 0.5f, 0f, config.VocabularySize, e);
        Add(weights, random, Gpt2TensorNames.PositionEmbedding, dtype, 0.2f, 0f, config.MaxPositions, e);
        Add(weights, random, Gpt2TensorNames.FinalNormWeight, dtype, 0.1f, 1f, e);
        Add(weights, random, Gpt2TensorNames.FinalNormBias, dtype, 0.1f, 0f, e);
        if (separateHead)
        {
            Add(weights, random, Gpt2TensorNames.LmHead, dtype, 0.5f, 0f, config.VocabularySize, e);
        }

        for (int layer = 0; layer < config.LayerCount; layer++)
        {
            Add(weights, random, Gpt2TensorNames.Norm1Weight(layer), dtype, 0.1f, 1f, e);
            Add(weights, random, Gpt2TensorNames.Norm1Bias(layer), dtype, 0.1f, 0f, e);
            Add(weights, random, Gpt2TensorNames.AttentionQkvWeight(layer), dtype, 0.5f, 0f, e, 3 * e);
            Add(weights, random, Gpt2TensorNames.AttentionQkvBias(layer), dtype, 0.1f, 0f, 3 * e);
            Add(weights, random, Gpt2TensorNames.AttentionOutWeight(layer), dtype, 0.3f, 0f, e, e);
            Add(weights, random, Gpt2TensorNames.AttentionOutBias(layer), dtype, 0.1f, 0f, e);
            Add(weights, random, Gpt2TensorNames.Norm2Weight(layer), dtype, 0.1f, 1f, e);
            Add(weights, random, Gpt2TensorNames.Norm2Bias(layer), dtype, 0.1f, 0f, e);
            Add(weights, random, Gpt2TensorNames.MlpUpWeight(layer), dtype, 0.5f, 0f, e, config.InnerSize);
            Add(weights, random, Gpt2TensorNames.MlpUpBias(layer), dtype, 0.1f, 0f, config.InnerSize);
            Add(weights, random, Gpt2TensorNames.MlpDownWeight(layer), dtype, 0.2f, 0f, config.InnerSize, e);
            Add(weights, random, Gpt2TensorNames.MlpDownBias(layer), dtype, 0.1f, 0f, e);
        }

        return weights;
    }

    private static void Add(NativeModelWeights weights, Random random, string name, TensorDType dtype, float scale, float centre, params long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = centre + (scale * (float)((random.NextDouble() * 2) - 1));
        }

        weights.Add(name, dtype, values, shape);
    }
}
