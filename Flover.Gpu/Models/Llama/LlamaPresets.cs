using Flover.Gpu.Checkpoints;
using Flover.Gpu.Checkpoints.Llama;

namespace Flover.Gpu.Models.Llama;

/// <summary>
/// Built-in LLaMA shapes with seeded random weights: <see cref="Tiny"/> for tests, and the shapes
/// of TinyLlama-1.1B and Llama-3-8B for benchmarks. Bit-identical for a seed, whatever the machine
/// or the thread count. Matrices are N(0, 0.02) as transformers initialises them (a key of seed and
/// tensor name, so adding a tensor never changes another's values); norm gains 1, biases 0. They
/// come without a tokenizer: the benchmarks and tests feed token ids.
/// </summary>
public static class LlamaPresets
{
    /// <summary>2 layers, 64 wide, 4 heads over 2 KV heads of 16, SwiGLU 172, vocabulary 1024, 256 positions, llama3 rope, untied head.</summary>
    public const string Tiny = "llama-tiny";

    /// <summary>TinyLlama-1.1B's shape: 22 layers, 2048 wide, 32 heads over 4 KV heads of 64, SwiGLU 5632, vocabulary 32 000, 2048 positions, rope θ 10 000 (1.10 B parameters, 4.4 GB in F32).</summary>
    public const string TinyLlama1B = "tinyllama-1.1b";

    /// <summary>Llama-3-8B's shape: 32 layers, 4096 wide, 32 heads over 8 KV heads of 128, SwiGLU 14 336, vocabulary 128 256, 8192 positions, rope θ 500 000 (8.03 B parameters, 16.1 GB in BF16).</summary>
    public const string Llama3_8B = "llama-3-8b";

    /// <summary>The preset names, smallest first.</summary>
    public static IReadOnlyList<string> Names { get; } = [Tiny, TinyLlama1B, Llama3_8B];

    /// <summary>Whether <paramref name="name"/> is a LLaMA preset.</summary>
    public static bool IsPreset(string? name) => name is not null && Names.Contains(name, StringComparer.Ordinal);

    /// <summary>The configuration of preset <paramref name="name"/>.</summary>
    /// <exception cref="FloverException">No such preset (one line listing them).</exception>
    public static LlamaConfig ConfigOf(string name) => name switch
    {
        Tiny => new LlamaConfig(
            LayerCount: 2, HiddenSize: 64, HeadCount: 4, KvHeadCount: 2, HeadSize: 16, IntermediateSize: 172, VocabularySize: 1024, MaxPositions: 256,
            RmsNormEpsilon: 1e-5f, new LlamaRope(LlamaRopeType.Llama3, 500000f, Factor: 8f, LowFrequencyFactor: 1f, HighFrequencyFactor: 4f, OriginalMaxPositions: 64),
            TieWordEmbeddings: false, AttentionBias: false, MlpBias: false, BosTokenId: 1, EosTokenId: 2),
        // TinyLlama/TinyLlama-1.1B-Chat-v1.0's config.json.
        TinyLlama1B => new LlamaConfig(
            LayerCount: 22, HiddenSize: 2048, HeadCount: 32, KvHeadCount: 4, HeadSize: 64, IntermediateSize: 5632, VocabularySize: 32000, MaxPositions: 2048,
            RmsNormEpsilon: 1e-5f, new LlamaRope(LlamaRopeType.Default, 10000f),
            TieWordEmbeddings: false, AttentionBias: false, MlpBias: false, BosTokenId: 1, EosTokenId: 2),
        // meta-llama/Meta-Llama-3-8B's config.json.
        Llama3_8B => new LlamaConfig(
            LayerCount: 32, HiddenSize: 4096, HeadCount: 32, KvHeadCount: 8, HeadSize: 128, IntermediateSize: 14336, VocabularySize: 128256, MaxPositions: 8192,
            RmsNormEpsilon: 1e-5f, new LlamaRope(LlamaRopeType.Default, 500000f),
            TieWordEmbeddings: false, AttentionBias: false, MlpBias: false, BosTokenId: 128000, EosTokenId: 128001),
        _ => throw new FloverException($"Unknown LLaMA preset '{name}' (known: {string.Join(", ", Names)})."),
    };

    /// <summary>Parameters of preset <paramref name="name"/> (every tensor it generates, the LM head once).</summary>
    public static long ParameterCount(string name) =>
        LlamaTensorNames.Required(ConfigOf(name)).Sum(tensor => tensor.Shape.Aggregate(1L, (product, dim) => product * dim));

    /// <summary>
    /// Generates preset <paramref name="name"/>'s weights from <paramref name="seed"/> in
    /// <paramref name="dtype"/> (values drawn in F32 and rounded to nearest even), in parallel.
    /// </summary>
    /// <exception cref="FloverException">No such preset, or this machine has not the memory to hold the weights (one line: bytes needed and available).</exception>
    public static LlamaWeights Create(string name, ulong seed = 0, TensorDType dtype = TensorDType.F32)
    {
        LlamaConfig config = ConfigOf(name);
        // Checked before a byte is generated: llama-3-8b in F32 is 32 GB, and a machine without it
        // would otherwise swap or be killed part-way instead of saying so.
        CheckFits(name, dtype, Accelerators.HostMemoryPlan.AvailableBytes());
        var memory = new SliceMemory();
        try
        {
            var tensors = new Dictionary<string, TensorView>(StringComparer.Ordinal);
            var fills = new List<PresetTensor>();
            foreach ((string tensor, long[] shape) in LlamaTensorNames.Required(config))
            {
                long elements = shape.Aggregate(1L, (a, b) => a * b);
                TensorView view = Allocate(memory, tensor, shape, elements * dtype.ByteSize(), dtype);
                tensors.Add(tensor, view);
                (PresetFill fill, float std) = tensor.EndsWith(".bias", StringComparison.Ordinal) ? (PresetFill.Zeros, 0f)
                    : shape.Length == 1 ? (PresetFill.Ones, 0f)
                    : (PresetFill.Normal, PresetWeightGenerator.InitializerRange);
                fills.Add(new PresetTensor(view, fill, std, StreamKey.For(seed, tensor)));
            }

            PresetWeightGenerator.FillAll(fills, dtype, maxDegreeOfParallelism: -1);
            if (config.TieWordEmbeddings)
            {
                tensors.Add(LlamaTensorNames.LmHead, tensors[LlamaTensorNames.TokenEmbedding]);
            }

            return new LlamaWeights(config, $"preset '{name}' (seed {seed}, random weights)", tensors, [memory]);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>Throws unless preset <paramref name="name"/>'s weights in <paramref name="dtype"/> fit in <paramref name="availableBytes"/>.</summary>
    internal static void CheckFits(string name, TensorDType dtype, long availableBytes) =>
        PresetMemory.CheckFits(name, dtype, ParameterCount(name) * dtype.ByteSize(), availableBytes);

    private static unsafe TensorView Allocate(SliceMemory memory, string name, long[] shape, long bytes, TensorDType dtype) =>
        new(name, dtype, shape, memory.Allocate(bytes), bytes);
}
