using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;

namespace Flover.Gpu.Models.Llama;

/// <summary>
/// Built-in LLaMA shapes with seeded random weights, for tests: bit-identical for a seed, whatever
/// the machine. Matrices are N(0, 0.02) as transformers initialises them (a key of seed and tensor
/// name, so adding a tensor never changes another's values); norm gains 1.
/// </summary>
public static class LlamaPresets
{
    /// <summary>2 layers, 64 wide, 4 heads over 2 KV heads of 16, SwiGLU 172, vocabulary 1024, 256 positions, llama3 rope, untied head.</summary>
    public const string Tiny = "llama-tiny";

    /// <summary>The preset names.</summary>
    public static IReadOnlyList<string> Names { get; } = [Tiny];

    /// <summary>The configuration of preset <paramref name="name"/>.</summary>
    /// <exception cref="FloverException">No such preset (one line listing them).</exception>
    public static LlamaConfig ConfigOf(string name) => name switch
    {
        Tiny => new LlamaConfig(
            LayerCount: 2, HiddenSize: 64, HeadCount: 4, KvHeadCount: 2, HeadSize: 16, IntermediateSize: 172, VocabularySize: 1024, MaxPositions: 256,
            RmsNormEpsilon: 1e-5f, new LlamaRope(LlamaRopeType.Llama3, 500000f, Factor: 8f, LowFrequencyFactor: 1f, HighFrequencyFactor: 4f, OriginalMaxPositions: 64),
            TieWordEmbeddings: false, AttentionBias: false, MlpBias: false, BosTokenId: 1, EosTokenId: 2),
        _ => throw new FloverException($"Unknown LLaMA preset '{name}' (known: {string.Join(", ", Names)})."),
    };

    /// <summary>Generates preset <paramref name="name"/>'s weights (F32) from <paramref name="seed"/>.</summary>
    /// <exception cref="FloverException">No such preset.</exception>
    public static LlamaWeights Create(string name, ulong seed = 0)
    {
        LlamaConfig config = ConfigOf(name);
        var memory = new SliceMemory();
        try
        {
            var tensors = new Dictionary<string, TensorView>(StringComparer.Ordinal);
            foreach ((string tensor, long[] shape) in LlamaTensorNames.Required(config))
            {
                tensors.Add(tensor, Generate(memory, tensor, shape, seed));
            }

            if (config.TieWordEmbeddings)
            {
                tensors.Add(LlamaTensorNames.LmHead, tensors[LlamaTensorNames.TokenEmbedding]);
            }

            return new LlamaWeights(config, $"preset '{name}' (seed {seed})", tensors, [memory]);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    private static unsafe TensorView Generate(SliceMemory memory, string name, long[] shape, ulong seed)
    {
        long elements = shape.Aggregate(1L, (a, b) => a * b);
        byte* data = memory.Allocate(elements * sizeof(float));
        var values = new Span<float>(data, checked((int)elements));
        if (shape.Length == 1)
        {
            // Norm gains (the only vectors without biases in the config).
            values.Fill(1f);
        }
        else
        {
            SeededNormal.Fill(values, 0, StreamKey.For(seed, name), PresetWeightGenerator.InitializerRange);
        }

        return new TensorView(name, TensorDType.F32, shape, data, elements * sizeof(float));
    }
}
