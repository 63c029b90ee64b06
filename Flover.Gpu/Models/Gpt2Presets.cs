using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models;

/// <summary>
/// Built-in GPT-2 shapes with seeded random weights, for when no checkpoint is at hand: the
/// default of <c>serve</c> and of the benchmarks. Their text is meaningless: the weights are
/// untrained. They exist for serving, testing and benchmarking, where the shape and the cost of
/// the computation matter and the words do not. All use GPT-2's vocabulary (50 257 tokens, with
/// <c>&lt;|endoftext|&gt;</c> = 50256 as beginning and end of sequence) and its real tokenizer.
/// </summary>
public static class Gpt2Presets
{
    /// <summary>The seed presets use unless told otherwise; the same seed always gives the same weights.</summary>
    public const ulong DefaultSeed = 20230517;

    /// <summary>2 blocks, 12 heads, width 96, 256 positions: fast enough for unit tests (≈ 5 M parameters, mostly embeddings).</summary>
    public const string Tiny = "tiny";

    /// <summary>GPT-2 small's shape: 12 blocks, 12 heads, width 768, 1024 positions (124 M parameters).</summary>
    public const string Gpt2 = "gpt2";

    /// <summary>GPT-2 medium's shape: 24 blocks, 16 heads, width 1024, 1024 positions (355 M parameters).</summary>
    public const string Gpt2Medium = "gpt2-medium";

    /// <summary>
    /// A GPT-2-architecture stand-in at GPT-J-6B's size, the paper's first model: 28 blocks, 16 heads,
    /// width 4096, MLP 16384, 2048 positions, GPT-J's padded vocabulary of 50 400 (the ids past the
    /// tokenizer's 50 257 are never sampled); 5.85 B parameters, 23.4 GB in F32, 11.7 GB in BF16.
    /// </summary>
    public const string GptJ6B = "gptj-6b";

    private const int Vocabulary = 50257;
    private const int GptJVocabulary = 50400;
    private const int EndOfText = 50256;

    /// <summary>The preset names, smallest first.</summary>
    public static IReadOnlyList<string> Names { get; } = [Tiny, Gpt2, Gpt2Medium, GptJ6B];

    /// <summary>The configuration of preset <paramref name="name"/>.</summary>
    /// <exception cref="FloverException">Not a preset name; the message lists the valid ones.</exception>
    public static Gpt2Config ConfigOf(string name) => name switch
    {
        Tiny => Shape(layers: 2, heads: 12, embedding: 96, positions: 256),
        Gpt2 => Shape(layers: 12, heads: 12, embedding: 768, positions: 1024),
        Gpt2Medium => Shape(layers: 24, heads: 16, embedding: 1024, positions: 1024),
        GptJ6B => Shape(layers: 28, heads: 16, embedding: 4096, positions: 2048) with { VocabularySize = GptJVocabulary },
        _ => throw new FloverException($"Unknown preset '{name}'; valid presets: {string.Join(", ", Names)}."),
    };

    /// <summary>
    /// Generates preset <paramref name="name"/>'s weights the way Hugging Face initialises an
    /// untrained GPT-2: embeddings and projections N(0, 0.02), the residual output projections
    /// (<c>attn.c_proj</c>, <c>mlp.c_proj</c>) N(0, 0.02 / sqrt(2 · n_layer)), biases 0, layer-norm
    /// gains 1; <c>lm_head</c> tied to <c>wte</c>. Generation is parallel and vectorised, and the
    /// values depend only on <paramref name="seed"/>, never on the number of threads.
    /// </summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    /// <param name="seed">The seed; the same seed gives bit-identical weights on every run.</param>
    /// <param name="dtype">The element type to store (values are drawn in F32 and rounded to nearest even).</param>
    /// <exception cref="FloverException">Not a preset name.</exception>
    /// <exception cref="FloverException">Not a preset name, or this machine has not the memory to hold the generated weights (one line: bytes needed and available).</exception>
    public static NativeModelWeights Create(string name, ulong seed = DefaultSeed, TensorDType dtype = TensorDType.F32)
    {
        Gpt2Config config = ConfigOf(name);
        // Checked before a byte is generated: gptj-6b in F32 is 23.6 GB, and a machine without it
        // would otherwise swap or be killed part-way instead of saying so.
        CheckFits(name, dtype, Accelerators.HostMemoryPlan.AvailableBytes());
        return PresetWeightGenerator.Generate(config, SourceOf(name, seed), seed, dtype, maxDegreeOfParallelism: -1);
    }

    /// <summary>How messages name preset <paramref name="name"/>'s weights under <paramref name="seed"/>.</summary>
    internal static string SourceOf(string name, ulong seed) => $"preset '{name}' (seed {seed}, random weights)";

    /// <summary>Throws unless preset <paramref name="name"/>'s weights in <paramref name="dtype"/> fit in <paramref name="availableBytes"/>.</summary>
    internal static void CheckFits(string name, TensorDType dtype, long availableBytes) =>
        PresetMemory.CheckFits(name, dtype, GeneratedBytes(ConfigOf(name), dtype), availableBytes);

    /// <summary>Bytes of the tensors a preset of <paramref name="config"/> generates in <paramref name="dtype"/> (the LM head is the token embedding, not a copy).</summary>
    public static long GeneratedBytes(Gpt2Config config, TensorDType dtype)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Gpt2TensorShapes.Required(config).Sum(tensor => tensor.Shape.Aggregate(1L, (product, dim) => product * dim)) * dtype.ByteSize();
    }

    private static Gpt2Config Shape(int layers, int heads, int embedding, int positions) =>
        new(layers, heads, embedding, positions, 4 * embedding, Vocabulary, 1e-5f, Gpt2Activation.GeluTanh, EndOfText, EndOfText);
}
