using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Flover.Gpu.Checkpoints;

namespace Flover.Gpu.Models;

/// <summary>Fills a <see cref="NativeModelWeights"/> with GPT-2's initialisation, in parallel chunks.</summary>
internal static unsafe class PresetWeightGenerator
{
    /// <summary>The standard deviation of GPT-2's initialisation (<c>initializer_range</c>).</summary>
    public const float InitializerRange = 0.02f;

    // 64 Ki elements: small enough to balance 2 to 64 cores over GPT-2's 148 tensors, large enough
    // that scheduling costs nothing next to the work. A multiple of the generator's block size.
    private const int ChunkElements = 1 << 16;

    // Narrow dtypes are drawn in F32 into a stack buffer of this many elements, then rounded.
    private const int ConversionElements = 1024;

    private enum Fill
    {
        Normal,
        Zeros,
        Ones,
    }

    private readonly record struct Chunk(TensorView Tensor, long First, int Count, Fill Kind, float Std, StreamKey Key);

    /// <summary>Generates every tensor of <paramref name="config"/>; -1 parallelism means all cores.</summary>
    public static NativeModelWeights Generate(Gpt2Config config, string source, ulong seed, TensorDType dtype, int maxDegreeOfParallelism)
    {
        var weights = new NativeModelWeights(config, source);
        try
        {
            var chunks = new List<Chunk>();
            float residualStd = InitializerRange / MathF.Sqrt(2 * config.LayerCount);
            foreach ((string name, long[] shape) in Gpt2TensorShapes.Required(config))
            {
                weights.Allocate(name, dtype, shape);
                TensorView tensor = weights.Get(name);
                HugePages.Advise(tensor.Pointer, tensor.ByteLength);
                (Fill kind, float std) = name.EndsWith(".bias", StringComparison.Ordinal) ? (Fill.Zeros, 0f)
                    : name.Contains("ln_", StringComparison.Ordinal) ? (Fill.Ones, 0f)
                    : name.EndsWith("c_proj.weight", StringComparison.Ordinal) ? (Fill.Normal, residualStd)
                    : (Fill.Normal, InitializerRange);
                StreamKey key = StreamKey.For(seed, name);
                for (long first = 0; first < tensor.ElementCount; first += ChunkElements)
                {
                    chunks.Add(new Chunk(tensor, first, (int)Math.Min(ChunkElements, tensor.ElementCount - first), kind, std, key));
                }
            }

            Parallel.ForEach(chunks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, chunk => Run(chunk, dtype));
            weights.AddAlias(Gpt2TensorNames.LmHead, Gpt2TensorNames.TokenEmbedding);
            return weights;
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    // Optimised from the first call, as SeededNormal.Fill is: this runs once, at start-up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(Chunk chunk, TensorDType dtype)
    {
        int size = dtype.ByteSize();
        byte* start = chunk.Tensor.Pointer + (chunk.First * size);
        if (chunk.Kind == Fill.Zeros)
        {
            NativeMemory.Clear(start, (nuint)(chunk.Count * size));
            return;
        }

        if (dtype == TensorDType.F32)
        {
            var destination = new Span<float>(start, chunk.Count);
            if (chunk.Kind == Fill.Ones)
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
            if (chunk.Kind == Fill.Ones)
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
