using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Flover.Gpu.Accelerators;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models;

/// <summary>
/// Fills preset weights with seeded random values in parallel chunks: GPT-2's initialisation for
/// <see cref="Gpt2Presets"/>, and any family's tensors through <see cref="FillAll"/>. A value
/// depends only on the seed, the tensor's name and its index, never on the chunking or the threads.
/// </summary>
internal static unsafe class PresetWeightGenerator
{
    /// <summary>The standard deviation of GPT-2's initialisation (<c>initializer_range</c>).</summary>
    public const float InitializerRange = 0.02f;

    // 64 Ki elements: small enough to balance 2 to 64 cores over GPT-2's 148 tensors, large enough
    // that scheduling costs nothing next to the work. A multiple of the generator's block size.
    private const int ChunkElements = 1 << 16;

    // Narrow dtypes are drawn in F32 into a stack buffer of this many elements, then rounded.
    private const int ConversionElements = 1024;

    private readonly record struct Chunk(TensorView Tensor, long First, int Count, PresetFill Kind, float Std, StreamKey Key);

    /// <summary>Generates every tensor of <paramref name="config"/>; -1 parallelism means all cores.</summary>
    public static NativeModelWeights Generate(Gpt2Config config, string source, ulong seed, TensorDType dtype, int maxDegreeOfParallelism)
    {
        var weights = new NativeModelWeights(config, source);
        try
        {
            var tensors = new List<PresetTensor>();
            foreach (GeneratedTensor tensor in Describe(config, seed, dtype))
            {
                weights.Allocate(tensor.Name, dtype, tensor.Shape);
                tensors.Add(new PresetTensor(weights.Get(tensor.Name), tensor.Fill, tensor.Std, tensor.Key));
            }

            FillAll(tensors, dtype, maxDegreeOfParallelism);
            weights.AddAlias(Gpt2TensorNames.LmHead, Gpt2TensorNames.TokenEmbedding);
            return weights;
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>
    /// What <see cref="Generate"/> makes of each tensor of <paramref name="config"/>, without making
    /// it: GPT-2's initialisation (biases 0, layer-norm gains 1, residual projections
    /// N(0, 0.02 / sqrt(2 · n_layer)), everything else N(0, 0.02)), keyed by seed and name.
    /// </summary>
    public static IReadOnlyList<GeneratedTensor> Describe(Gpt2Config config, ulong seed, TensorDType dtype)
    {
        ArgumentNullException.ThrowIfNull(config);
        float residualStd = InitializerRange / MathF.Sqrt(2 * config.LayerCount);
        var tensors = new List<GeneratedTensor>();
        foreach ((string name, long[] shape) in Gpt2TensorShapes.Required(config))
        {
            (PresetFill kind, float std) = name.EndsWith(".bias", StringComparison.Ordinal) ? (PresetFill.Zeros, 0f)
                : name.Contains("ln_", StringComparison.Ordinal) ? (PresetFill.Ones, 0f)
                : name.EndsWith("c_proj.weight", StringComparison.Ordinal) ? (PresetFill.Normal, residualStd)
                : (PresetFill.Normal, InitializerRange);
            tensors.Add(new GeneratedTensor(name, shape, kind, std, StreamKey.For(seed, name), dtype));
        }

        return tensors;
    }

    /// <summary>
    /// Generates the one tensor <paramref name="tensor"/> into host memory, hands it to
    /// <paramref name="use"/> (which must copy what it keeps) and frees it: an accelerator's upload
    /// of a preset tensor, one tensor's memory at a time.
    /// </summary>
    public static T WithHostCopy<T>(GeneratedTensor tensor, Func<TensorView, T> use)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(use);
        long bytes = tensor.ElementCount * tensor.DType.ByteSize();
        byte* data = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), 64);
        try
        {
            var view = new TensorView(tensor.Name, tensor.DType, tensor.Shape, data, bytes);
            FillAll([new PresetTensor(view, tensor.Fill, tensor.Std, tensor.Key)], tensor.DType, maxDegreeOfParallelism: -1);
            return use(view);
        }
        finally
        {
            NativeMemory.AlignedFree(data);
        }
    }

    /// <summary>Fills <paramref name="tensors"/> (all of <paramref name="dtype"/>) in parallel chunks; -1 parallelism means all cores.</summary>
    public static void FillAll(IReadOnlyList<PresetTensor> tensors, TensorDType dtype, int maxDegreeOfParallelism)
    {
        var chunks = new List<Chunk>();
        foreach (PresetTensor tensor in tensors)
        {
            HugePages.Advise(tensor.Tensor.Pointer, tensor.Tensor.ByteLength);
            for (long first = 0; first < tensor.Tensor.ElementCount; first += ChunkElements)
            {
                chunks.Add(new Chunk(tensor.Tensor, first, (int)Math.Min(ChunkElements, tensor.Tensor.ElementCount - first), tensor.Fill, tensor.Std, tensor.Key));
            }
        }

        Parallel.ForEach(chunks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, chunk => Run(chunk, dtype));
    }

    // Optimised from the first call, as SeededNormal.Fill is: this runs once, at start-up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(Chunk chunk, TensorDType dtype)
    {
        int size = dtype.ByteSize();
        byte* start = chunk.Tensor.Pointer + (chunk.First * size);
        if (chunk.Kind == PresetFill.Zeros)
        {
            NativeMemory.Clear(start, (nuint)(chunk.Count * size));
            return;
        }

        if (dtype == TensorDType.F32)
        {
            var destination = new Span<float>(start, chunk.Count);
            if (chunk.Kind == PresetFill.Ones)
            {
                destination.Fill(1f);
            }
            else
            {
                SeededNormal.Fill(destination, chunk.First, chunk.Key, chunk.Std);
            }

            return;
        }

        Span<float> drawn = stackalloc float[ConversionElements];
        for (int done = 0; done < chunk.Count; done += ConversionElements)
        {
            Span<float> part = drawn[..Math.Min(ConversionElements, chunk.Count - done)];
            if (chunk.Kind == PresetFill.Ones)
            {
                part.Fill(1f);
            }
            else
            {
                SeededNormal.Fill(part, chunk.First + done, chunk.Key, chunk.Std);
            }

            Narrow(part, start + ((long)done * size), dtype);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Narrow(ReadOnlySpan<float> values, byte* destination, TensorDType dtype)
    {
        if (dtype == TensorDType.F16)
        {
            var halves = new Span<Half>(destination, values.Length);
            for (int i = 0; i < values.Length; i++)
            {
                halves[i] = (Half)values[i];
            }

            return;
        }

        var raw = new Span<ushort>(destination, values.Length);
        for (int i = 0; i < values.Length; i++)
        {
            raw[i] = BFloat16Bits.FromSingle(values[i]);
        }
    }
}

/// <summary>How a preset tensor is filled.</summary>
internal enum PresetFill
{
    /// <summary>Normal values of the tensor's standard deviation.</summary>
    Normal,

    /// <summary>Zeros (biases).</summary>
    Zeros,

    /// <summary>Ones (norm gains).</summary>
    Ones,
}

/// <summary>A preset tensor to fill: where, how, and the random stream it draws from.</summary>
internal readonly record struct PresetTensor(TensorView Tensor, PresetFill Fill, float Std, StreamKey Key);

/// <summary>
/// A preset tensor as a recipe rather than bytes: its name and shape, how it is filled, from which
/// random stream, and the dtype its values are rounded to. Any accelerator can make it
/// (<see cref="Accelerators.Accelerator"/>'s generation operations); the bytes equal the host's.
/// </summary>
internal sealed record GeneratedTensor(string Name, long[] Shape, PresetFill Fill, float Std, StreamKey Key, TensorDType DType)
{
    /// <summary>The tensor's element count.</summary>
    public long ElementCount => Shape.Aggregate(1L, (product, dim) => product * dim);
}
